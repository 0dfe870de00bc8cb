import { test, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempServices, kcConfig } from './helpers/temp-workspace.js';
import { SeededRandom } from '../core/common/seeded-random.js';
import { parseConfig, type LoadedConfig } from '../core/config/load-config.js';
import type { AppraiseError } from '../core/common/errors.js';
import { inspectBatchFile } from '../core/valuation/batch-inspect.js';

// Real-world headers (Ames-style "1st Flr SF", "Year Remod/Add", "3Ssn Porch", an exported row index with an empty
// header, unicode, a repeated column nobody declared) and text that starts like a spreadsheet formula ("@Realty").
// Everything goes through the real workspace: ingest, training, one valuation, batch scoring to CSV.

const s = tempServices();
afterAll(() => s.cleanup());

const CONFIG = `
version: 1
name: ames-like
dataset:
  columns:
    "Listing ref": { type: identifier }
    "SalePrice": { type: numeric, required: true, min: 1 }
    "1st Flr SF": { type: numeric, min: 0 }
    "Year Remod/Add": { type: integer, min: 1800, max: 2100 }
    "3Ssn Porch": { type: numeric, min: 0 }
    "Fläche m²": { type: numeric, min: 0 }
    year_sold: { type: integer, source: "Yr Sold" }
    Agency: { type: categorical }
    "Latitude (°)": { type: latitude }
    "Longitude (°)": { type: longitude }
target: { column: SalePrice }
features:
  derived:
    - { kind: ratio, name: "1st Flr share", numerator: "1st Flr SF", denominator: "Fläche m²" }
comparables:
  attributes: ["1st Flr SF", "Year Remod/Add"]
  latitude: "Latitude (°)"
  longitude: "Longitude (°)"
  k: 3
`;

const AGENCIES = ['@Realty', '-Southside Homes', '=Prime Estates', '+Plus Makler', 'Acme'];
const N = 400;

/** A seeded file: the header as exported by a spreadsheet, with an empty-header index column and "Notes" twice. */
function salesCsv(n: number): string {
  const r = new SeededRandom(11);
  const header = [
    '',
    'Listing ref',
    'SalePrice',
    '1st Flr SF',
    'Year Remod/Add',
    '3Ssn Porch',
    'Fläche m²',
    'Yr Sold',
    'Agency',
    'Notes',
    'Latitude (°)',
    'Longitude (°)',
    'Notes',
  ];
  const lines = [header.map((h) => (h.includes(',') ? `"${h}"` : h)).join(',')];
  for (let i = 0; i < n; i++) {
    const sf = Math.round(600 + r.next() * 1800);
    const remod = 1950 + Math.floor(r.next() * 60);
    const porch = r.next() < 0.2 ? Math.round(r.next() * 200) : 0;
    const area = Math.round(sf / 10.76 + r.next() * 40);
    const agency = AGENCIES[i % AGENCIES.length];
    const lat = 42 + r.next() * 0.1;
    const lon = -93.7 + r.next() * 0.1;
    const price = Math.round(Math.exp(10.5 + sf / 2000 + (remod - 1950) / 150 + (lat - 42) * 3 + 0.1 * r.next()));
    const ref = i % 7 === 0 ? `@L-${i}` : `L-${i}`;
    lines.push([i, ref, price, sf, remod, porch, area, 2006 + (i % 5), agency, '-see notes', lat.toFixed(5), lon.toFixed(5), ''].join(','));
  }
  return lines.join('\n');
}

let config: LoadedConfig;
let csv = '';
let datasetId = '';
let modelId = '';

beforeAll(async () => {
  config = parseConfig(CONFIG, 'ames-like.yaml');
  csv = join(s.dir, 'ames-like.csv');
  writeFileSync(csv, salesCsv(N));
  const r = await s.datasets.ingest({ file: csv, config });
  datasetId = r.datasetId;
  modelId = (await s.training.train({ dataset: datasetId, folds: 3, params: { nRounds: 40, learningRate: 0.2 } })).modelId;
}, 120_000);

test('headers with spaces, slashes, leading digits, unicode, an empty index header and a repeated undeclared column ingest with only a YAML file', async () => {
  const ds = s.datasets.get(datasetId);
  expect(ds.rowCount).toBe(N);
  expect(ds.columns.map((c) => c.name)).toEqual(Object.keys(config.config.dataset.columns));
  // Values are stored under the config's names (year_sold read from "Yr Sold") and text is kept as given.
  const rows = s.workspace.db
    .prepare(`SELECT "Listing ref" AS ref, "1st Flr SF" AS sf, "Fläche m²" AS area, year_sold, Agency FROM ${ds.tableName} ORDER BY _row LIMIT 5`)
    .all() as { ref: string; sf: number; area: number; year_sold: number; Agency: string }[];
  const first = readFileSync(csv, 'utf8').split('\n').slice(1, 6);
  expect(rows.map((x) => [x.ref, x.sf, x.area, x.year_sold, x.Agency])).toEqual(
    first.map((l) => {
      const f = l.split(',');
      return [f[1], Number(f[3]), Number(f[6]), Number(f[7]), f[8]];
    }),
  );
  expect(rows.map((x) => x.Agency)).toEqual(AGENCIES); // "@Realty", "-Southside Homes", … : data, not formulas
  const agency = s.datasets.get(datasetId).quality?.columns.find((c) => c.name === 'Agency');
  expect(agency?.distinct).toBe(AGENCIES.length);
});

test('training, a valuation, its reasons and comparables use the header names', async () => {
  const house = {
    'Listing ref': 'new',
    '1st Flr SF': 1500,
    'Year Remod/Add': 2001,
    '3Ssn Porch': 0,
    'Fläche m²': 150,
    year_sold: 2009,
    Agency: '@Realty',
    'Latitude (°)': 42.05,
    'Longitude (°)': -93.65,
  };
  const v = await s.valuation.value(modelId, house);
  expect(Number.isFinite(v.estimate)).toBe(true);
  expect(v.contributions.map((c) => c.feature).sort()).toEqual(
    ['1st Flr SF', 'Year Remod/Add', '3Ssn Porch', 'Fläche m²', 'year_sold', 'Agency', 'Latitude (°)', 'Longitude (°)', '1st Flr share'].sort(),
  );
  expect(v.contributions.find((c) => c.feature === 'Agency')?.displayValue).toBe('@Realty');
  expect(v.comparables).toHaveLength(3);
  expect(Object.keys(v.comparables[0].attributes).sort()).toEqual(['1st Flr SF', 'Year Remod/Add']);
});

test('batch scoring a file with the same headers keeps every input column, formula-like text neutralised', async () => {
  const out = join(s.dir, 'scored.csv');
  const r = await s.valuation.score(modelId, csv, out);
  expect([r.rows, r.scored, r.failed]).toEqual([N, N, 0]);
  const source = salesCsv(N).split('\n');
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  // The file's own header as written (the empty index header, "Notes" twice), then the product's columns.
  const product =
    'appraise_line,appraise_estimate,appraise_low_80,appraise_high_80,appraise_low_95,appraise_high_95,appraise_fsd_pct,appraise_confidence,appraise_error';
  expect(lines[0]).toBe(`${source[0]},${product}`);
  const width = source[0].split(',').length;
  for (const i of [0, 1, 2, 3, 4, 5, 6, 7, 399]) {
    const got = lines[1 + i].split(',');
    // Text a spreadsheet would run as a formula ("@L-0", "@Realty", "-see notes") gets a leading quote (OWASP),
    // numbers such as the longitude "-93.6…" stay numbers; everything else is exactly as read.
    const expected = source[1 + i].split(',').map((v) => (/^[=+\-@]/.test(v) && !/^[+-]?\d+(\.\d+)?$/.test(v) ? `'${v}` : v));
    expect(got.slice(0, width)).toEqual(expected);
    expect(got[width]).toBe(String(i + 2)); // the file line: the header is line 1
    expect(Number(got[width + 1])).toBeGreaterThan(0);
  }
  expect(lines[1].split(',').slice(0, 2)).toEqual(['0', "'@L-0"]);
  expect(lines[2].split(',')[9]).toBe("'-see notes");
  // And the same from the stored dataset: its columns, then the dataset's row number and the product's columns.
  const fromDs = join(s.dir, 'scored-ds.csv');
  await s.valuation.score(modelId, datasetId, fromDs);
  const dsLines = readFileSync(fromDs, 'utf8').split('\n');
  const dsHead = dsLines[0].split(',');
  expect(dsHead.slice(-9)).toEqual(product.replace('appraise_line', 'appraise_row').split(','));
  expect(dsHead).toEqual(expect.arrayContaining(['Listing ref', 'Agency', '1st Flr SF', 'year_sold']));
  expect(dsLines[8].split(',')[dsHead.indexOf('Listing ref')]).toBe("'@L-7");
  expect(dsLines[2].split(',')[dsHead.indexOf('Agency')]).toBe("'-Southside Homes");
});

test('the batch inspection finds a column read from its source header', async () => {
  const inspection = await inspectBatchFile(config.config, csv);
  expect(inspection.columns.find((c) => c.name === 'year_sold')?.found).toBe(true);
  expect(inspection.ignored).toEqual(['Notes', 'Notes']); // the empty index header is not even listed
  expect(inspection.sample.valid).toBe(inspection.sample.rows);
});

function configProblems(yaml: string): string {
  try {
    parseConfig(yaml, 'bad.yaml');
  } catch (e) {
    expect((e as AppraiseError).code).toBe('INVALID_CONFIG');
    return (e as AppraiseError).message;
  }
  throw new Error('config was accepted');
}

const withColumns = (cols: string) => `version: 1\nname: t\ndataset:\n  columns:\n${cols}\ntarget: { column: price }\n`;

test('a name that cannot be a header says what is allowed and how to fix it', () => {
  const msg = configProblems(withColumns('    price: { type: numeric }\n    "Year\\tRemod": { type: integer }\n    " padded": { type: integer }'));
  expect(msg).toContain('the column name "Year\\tRemod" is not allowed');
  expect(msg).toContain('the column name " padded" is not allowed');
  expect(msg).toContain('source: "Year Remod/Add"'); // the fix, spelled out
  expect(msg).not.toContain('Invalid key in record');
});

test('names that would collide are refused: case-only differences, one header read twice, reserved names', () => {
  expect(configProblems(withColumns('    price: { type: numeric }\n    Price: { type: numeric }'))).toContain('differ only in upper/lower case');
  expect(
    configProblems(withColumns('    price: { type: numeric }\n    a: { type: numeric, source: "Lot Area" }\n    b: { type: numeric, source: "Lot Area" }')),
  ).toContain('the header "Lot Area" is already read by column "a"');
  expect(configProblems(withColumns('    price: { type: numeric }\n    _ROW: { type: numeric }'))).toContain('reserved');
});

test('a header that repeats a declared column, or lacks a required source header, is refused naming both names', async () => {
  const twice = join(s.dir, 'twice.csv');
  writeFileSync(twice, 'SalePrice,Agency,Agency\n1,a,b\n');
  await expect(s.datasets.ingest({ file: twice, config })).rejects.toThrow(/names column "Agency" twice/);
  const strict = parseConfig(withColumns('    price: { type: numeric, source: "Sale Price" }\n    x: { type: numeric }'));
  const noSource = join(s.dir, 'no-source.csv');
  writeFileSync(noSource, 'price,x\n1,2\n');
  await expect(s.datasets.ingest({ file: noSource, config: strict })).rejects.toThrow(/lacks required column "Sale Price" \(column price\)/);
});

test('configs without the new field keep their hash (existing datasets are still recognised)', () => {
  const plain = parseConfig(withColumns('    price: { type: numeric }'));
  expect(Object.keys(plain.config.dataset.columns.price)).not.toContain('source');
  // sha256 of each config's canonical JSON, computed with the schema as it was before `source` existed.
  expect(plain.hash).toBe('b519d2435b9051a26a1e38558f3de5fc774c7aec6081f1bfd7ce7fea964229a2');
  expect(kcConfig().hash).toBe('c20cd49ab007a740344a02baf167523cae62b944ba6dad03df6e576f4d385527');
});
