import { afterAll, beforeAll, expect, test } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CsvTokenizer } from '../core/ingest/csv-tokenizer.js';
import { kcSalesLines } from './helpers/kc-sales-lines.js';
import { repoRoot, tempServices } from './helpers/temp-workspace.js';

/**
 * What a batch run tells the window besides its counts (issue 11, Batch): the rows that could not be valued with
 * their reasons and the file line each starts on, and a preview of the output's first rows. Checked against the
 * file the test wrote (which lines it broke) and the output file itself, read back here.
 */
const s = tempServices();
afterAll(() => s.cleanup());
const { lines, col } = kcSalesLines();
let file = '';
// Data rows (0-based) the test breaks, and how.
const broken = new Map<number, [string, string]>([
  [3, ['sqft_living', 'lots']],
  [17, ['bedrooms', '99']],
  [40, ['zipcode', '']],
]);

beforeAll(() => {
  const bundled = join(repoRoot, 'models', 'king-county');
  s.models.promote(s.models.importFrom(join(bundled, 'model.onnx'), join(bundled, 'manifest.json')).id);
  const rows = lines.slice(1, 61).map((l, i) => {
    const b = broken.get(i);
    if (!b) return l;
    const f = l.split(',');
    f[col(b[0])] = b[1];
    return f.join(',');
  });
  file = join(s.dir, 'to value.csv');
  writeFileSync(file, [lines[0], ...rows].join('\n'));
}, 60_000);

test('the result lists each failed row with its file line and reason, and previews the output', async () => {
  const out = join(s.dir, 'valued.csv');
  const r = await s.valuation.score('champion', file, out, {}, { log: false });
  expect(r.failed).toBe(broken.size);
  expect(r.failures?.map((f) => f.row)).toEqual([...broken.keys()]);
  for (const f of r.failures!) {
    // Header is line 1, data row 0 is line 2.
    expect(f.line).toBe(f.row + 2);
    expect(f.reason).toContain(broken.get(f.row)![0]);
  }
  const t = new CsvTokenizer({ delimiter: ',', maxRecordBytes: 1 << 20 });
  const written = [...t.push(readFileSync(out, 'utf8')), ...t.end()].map((rec) => ('fields' in rec ? rec.fields : []));
  expect(r.preview?.columns).toEqual(written[0]);
  expect(r.preview?.rows).toHaveLength(10);
  const cells = (f: string[]) => f.map((c) => (c === '' ? null : c));
  r.preview!.rows.forEach((row, i) => expect(row.map((c) => (c === null ? null : String(c)))).toEqual(cells(written[i + 1])));
  // The output's error column holds the same reasons as the list.
  const errorAt = written[0].indexOf('appraise_error');
  expect(errorAt).toBeGreaterThan(0);
  for (const f of r.failures!) expect(written[1 + f.row][errorAt]).toBe(f.reason);
  // Every row, valued or not, keeps its input as written in the file, and says its file line.
  const header = lines[0].split(',');
  expect(written[0].slice(0, header.length)).toEqual(header);
  const lineAt = written[0].indexOf('appraise_line');
  expect(lineAt).toBe(header.length);
  for (let i = 0; i < 60; i++) {
    const b = broken.get(i);
    const fields = lines[1 + i].split(',');
    if (b) fields[col(b[0])] = b[1];
    expect(written[1 + i].slice(0, header.length)).toEqual(fields);
    expect(written[1 + i][lineAt]).toBe(String(i + 2));
  }
}, 60_000);
