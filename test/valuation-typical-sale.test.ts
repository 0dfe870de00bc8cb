import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { bundledDemo, loadDemoData } from '../core/services/demo-data.js';
import { formColumns } from '../core/valuation/typical-sale.js';
import type { TypicalSale } from '../core/valuation/valuation-schemas.js';
import { tempServices } from './helpers/temp-workspace.js';

/**
 * "Typical values" are one real sale — the medoid on the form's fields — never a per-field mix: the values are
 * exactly one row of the sales file, and that row is closer to the rest of the data than other sales are,
 * measured here independently on the file itself.
 */
describe('the typical sale the valuation form starts from', () => {
  const s = tempServices();
  let t: TypicalSale;
  let names: string[];
  let rows: string[][];
  beforeAll(async () => {
    await loadDemoData(s, bundledDemo()!);
    const started = performance.now();
    t = await s.valuation.typical({ model: 'champion' });
    // Asked once per window start: it must not hold the first screen up.
    expect(performance.now() - started).toBeLessThan(5000);
    const [header, ...lines] = readFileSync(bundledDemo()!.csv, 'utf8').trimEnd().split(/\r?\n/);
    names = header.split(',');
    rows = lines.map((l) => l.split(','));
  }, 120_000);
  afterAll(() => s.cleanup());

  it("is one real sale: every field's value is that sale's, as the file has it", () => {
    const row = rows[t.rowIndex];
    expect(t.fields.length).toBeGreaterThan(10);
    for (const f of t.fields) expect(Number(t.values[f]), f).toBe(Number(row[names.indexOf(f)]));
    expect(t.saleId).toBe(row[names.indexOf('id')]);
    expect(t.price).toBe(Number(row[names.indexOf('price')]));
  });

  it('is nearer the rest of the sales than other sales are', () => {
    const cols = t.fields.map((f) => names.indexOf(f));
    // Rows with a field missing (empty in the file) are left out, as the search leaves them out.
    const complete = (r: string[]) => cols.every((c) => r[c] !== '' && Number.isFinite(Number(r[c])));
    const ds = s.datasets.get(t.datasetId);
    expect(formColumns(ds.config)).toEqual(t.fields);
    // Each field in units of its interquartile range, as the search says; total L1 distance to an even sample.
    const spread = cols.map((c) => {
      const xs = rows
        .filter(complete)
        .map((r) => Number(r[c]))
        .sort((a, b) => a - b);
      return xs[Math.floor(0.75 * (xs.length - 1))] - xs[Math.floor(0.25 * (xs.length - 1))] || 1;
    });
    const sample = rows.filter((r, i) => i % 17 === 0 && complete(r));
    const total = (r: string[]) =>
      sample.reduce(
        (sum, o) =>
          sum + cols.reduce((d, c, j) => d + (t.fields[j] === 'zipcode' ? (r[c] === o[c] ? 0 : 1) : Math.abs(Number(r[c]) - Number(o[c])) / spread[j]), 0),
        0,
      );
    const mine = total(rows[t.rowIndex]);
    let worse = 0;
    const others = rows.filter((r, i) => i % 211 === 5 && complete(r));
    for (const o of others) if (total(o) >= mine) worse++;
    expect(worse / others.length).toBeGreaterThan(0.98);
  });
});
