import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { bundledDemo, loadDemoData } from '../core/services/demo-data.js';
import { DEMO_HOUSE } from '../core/app/demo-workspace.js';
import { GROSS_LIMIT, NET_LIMIT } from '../core/valuation/adjustment-grid.js';
import type { AdjustedComparable, Valuation } from '../core/valuation/valuation-schemas.js';
import { tempServices } from './helpers/temp-workspace.js';
import { runCli } from './helpers/run-cli.js';

/**
 * The sales comparison grid derived from the model, on the bundled demo data and model: `appraise value --json`
 * carries it, each comparable's adjusted price is its price plus its adjustments, and each feature's adjustment
 * is the subject's contribution minus the comparable's — the comparable's own contributions obtained
 * independently, by valuing its sale (read from the CSV file, at its sale date) like any property.
 */
describe('the adjustment grid', () => {
  const s = tempServices();
  let v: Omit<Valuation, 'comparables'> & { comparables: AdjustedComparable[] };
  beforeAll(async () => {
    await loadDemoData(s, bundledDemo()!);
    const cli = await runCli(['--workspace', s.workspace.dir, '--json', 'value', 'champion', '--input', JSON.stringify(DEMO_HOUSE), '--date', '2015-03-01']);
    expect(cli.code, cli.stderr).toBe(0);
    v = JSON.parse(cli.stdout) as typeof v;
  }, 120_000);
  afterAll(() => s.cleanup());

  it('gives every comparable grouped adjustments whose totals are its adjusted price, net and gross', () => {
    expect(v.comparables.length).toBe(5);
    for (const c of v.comparables) {
      expect(c.adjustments.length).toBeGreaterThan(3);
      // Rows in the grid's order, from the config's gridGroup keys (King County sets one per column).
      const groups = c.adjustments.map((a) => a.group);
      expect(groups).toEqual(expect.arrayContaining(['time', 'location', 'size', 'quality', 'condition', 'age', 'rooms']));
      expect(groups).not.toContain('other');
      const net = c.adjustments.reduce((sum, a) => sum + a.amount, 0);
      const gross = c.adjustments.reduce((sum, a) => sum + Math.abs(a.amount), 0);
      for (const a of c.adjustments)
        expect(a.amount).toBeCloseTo(
          a.features.reduce((sum, f) => sum + f.amount, 0),
          6,
        );
      expect(c.adjustedPrice).toBeCloseTo(c.price + net, 6);
      expect(c.netPct).toBeCloseTo(net / c.price, 9);
      expect(c.grossPct).toBeCloseTo(gross / c.price, 9);
      expect(c.flags).toEqual({ net: Math.abs(net / c.price) > NET_LIMIT, gross: gross / c.price > GROSS_LIMIT });
    }
    const adjusted = v.comparables.map((c) => c.adjustedPrice).sort((a, b) => a - b);
    expect(v.reconciliation).toMatchObject({ count: 5, low: adjusted[0], high: adjusted[4], median: adjusted[2] });
    expect(v.reconciliation!.differencePct).toBeCloseTo((adjusted[2] - v.estimate) / v.estimate, 9);
  });

  it("makes each feature's adjustment the subject's contribution minus the comparable's own", async () => {
    const [header, ...lines] = readFileSync(bundledDemo()!.csv, 'utf8').trimEnd().split(/\r?\n/);
    const names = header.split(',');
    const subject = new Map(v.contributions.map((c) => [c.feature, c.amount]));
    for (const c of v.comparables) {
      // The comparable's sale as the file has it (rowIndex is the 0-based data row), valued at its sale date.
      const fields = lines[c.rowIndex].split(',');
      const record = Object.fromEntries(names.map((n, i) => [n, fields[i]]).filter(([n]) => n !== 'price' && n !== 'date'));
      const own = await s.valuation.value('champion', record, { valuationDate: c.saleDate!, log: false });
      expect(Number(fields[names.indexOf('price')])).toBe(c.price);
      const ownAmount = new Map(own.contributions.map((x) => [x.feature, x.amount]));
      const features = c.adjustments.flatMap((a) => a.features);
      expect(features.map((f) => f.feature).sort()).toEqual([...subject.keys()].sort());
      for (const f of features) expect(f.amount).toBeCloseTo(subject.get(f.feature)! - ownAmount.get(f.feature)!, 4);
      // Hence the adjusted price is the comparable's price moved by the difference of the two estimates.
      expect(c.adjustedPrice).toBeCloseTo(c.price + v.estimate - own.estimate, 3);
    }
  }, 60_000);
});
