import { afterAll, expect, test } from 'vitest';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppraiseError } from '../core/common/errors.js';
import { parseConfig } from '../core/config/load-config.js';
import { readCsvRows } from '../core/ingest/csv-row-reader.js';
import { ingestCsv } from '../core/ingest/ingest-csv.js';
import { compileFeatureTransform, fitFeatureTransform } from '../core/features/feature-transform.js';
import { validateProperty } from '../core/schema/row-validator.js';
import { kcConfig, tempDir, tempServices } from './helpers/temp-workspace.js';

// Issue 14, property-based tests: generated hostile input for the CSV ingest and the feature transform. Nothing
// may crash or escape as a bug: every outcome is a result or an AppraiseError with a code other than INTERNAL.

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const small = parseConfig(`version: 1
name: prop
dataset:
  columns:
    ref: { type: identifier }
    price: { type: numeric, required: true, min: 1 }
    area: { type: numeric, min: 0 }
    rooms: { type: integer, min: 0, max: 40 }
    kind: { type: categorical }
    sold: { type: date, format: "YYYY-MM-DD" }
    pool: { type: boolean }
target: { column: price }
`);
const HEADER = 'ref,price,area,rooms,kind,sold,pool';

/** Cells: plausible values, numbers at the edges, quotes, separators, control and non-ASCII characters. */
const cell = fc.oneof(
  fc.constantFrom(
    '',
    '0',
    '-1',
    '1e308',
    '1e309',
    'NaN',
    'Infinity',
    '2014-02-30',
    '2014-01-01',
    'true',
    'yes',
    '"',
    '""',
    ',',
    '\r',
    '\u0000',
    '=cmd()',
    'é',
    '\uFEFF',
  ),
  fc.double({ noNaN: false }).map(String),
  fc.integer().map(String),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
);
const line = fc.array(cell, { minLength: 0, maxLength: 9 }).map((cells) => cells.join(','));
const csvText = fc.tuple(
  fc.oneof(fc.constant(HEADER), fc.constant(HEADER.split(',').reverse().join(',')), line),
  fc.array(line, { maxLength: 25 }),
  fc.constantFrom('\n', '\r\n', '\r'),
);

function expectTyped(e: unknown): void {
  expect(e).toBeInstanceOf(AppraiseError);
  expect((e as AppraiseError).code).not.toBe('INTERNAL');
}

test('the CSV reader: any text gives counts that add up, or a typed refusal', async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(csvText, async ([header, rows, eol]) => {
      const file = join(tmp.dir, `r${n++}.csv`);
      writeFileSync(file, [header, ...rows].join(eol));
      try {
        const s = await readCsvRows({ file, config: small }, () => undefined);
        expect(s.rowsAccepted + s.rowsQuarantined).toBe(s.rowsRead);
        expect(s.rowsAccepted).toBeGreaterThanOrEqual(0);
      } catch (e) {
        expectTyped(e);
      }
    }),
    { numRuns: 400 },
  );
}, 120_000);

test('raw bytes (not text) are refused as a typed error or read, never a crash', async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), async (bytes) => {
      const file = join(tmp.dir, `b${n++}.csv`);
      writeFileSync(file, Buffer.concat([Buffer.from(`${HEADER}\n`), Buffer.from(bytes)]));
      try {
        await readCsvRows({ file, config: small }, () => undefined);
      } catch (e) {
        expectTyped(e);
      }
    }),
    { numRuns: 300 },
  );
}, 120_000);

test('the whole ingest into a workspace: a version or a typed refusal, and never a staging table left', async () => {
  const s = tempServices();
  try {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(csvText, async ([header, rows, eol]) => {
        const file = join(tmp.dir, `i${n++}.csv`);
        writeFileSync(file, [header, ...rows].join(eol));
        try {
          const r = await ingestCsv({ db: s.workspace.db, datasets: s.datasetStore }, { file, config: small });
          expect(s.datasets.get(r.datasetId).rowCount).toBe(r.rowsAccepted);
        } catch (e) {
          expectTyped(e);
        }
        expect(s.workspace.db.prepare(`SELECT name FROM sqlite_master WHERE name LIKE '_staging_%'`).all()).toEqual([]);
      }),
      { numRuns: 120 },
    );
  } finally {
    await s.cleanup();
  }
}, 120_000);

test('the feature transform: any property either validates into a finite-or-missing vector or is refused field by field', () => {
  const config = kcConfig().config;
  const freq = { zipcode: ['98103', '98001', '98178'].map((value, i) => ({ value, count: 300 - i })) };
  const compiled = compileFeatureTransform(fitFeatureTransform(config, freq));
  const columns = Object.keys(config.dataset.columns).filter((c) => c !== config.target.column);
  const value = fc.oneof(
    cell,
    fc.double(),
    fc.constantFrom(null, undefined, true, false, Number.MAX_VALUE, -0, 1e-320),
    fc.array(fc.integer(), { maxLength: 2 }),
    fc.object({ maxDepth: 1 }),
  );
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom(...columns, '__proto__', 'constructor', 'extra'), value, { maxKeys: columns.length + 2 }), (input) => {
      const checked = validateProperty(config, input, { skip: [config.target.column] });
      if (!checked.ok) {
        for (const e of checked.errors) {
          expect(typeof e.field).toBe('string');
          expect(e.message.length).toBeLessThan(400);
        }
        return;
      }
      const { vector } = compiled.fromRecord(checked.values);
      expect(vector).toHaveLength(compiled.nFeatures);
      for (const v of vector) expect(Number.isNaN(v) || Number.isFinite(v)).toBe(true);
    }),
    { numRuns: 3000 },
  );
});
