import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { bundledDemo, loadDemoData } from '../core/services/demo-data.js';
import { DEMO_HOUSE } from '../core/app/demo-workspace.js';
import type { AppraiseError } from '../core/common/errors.js';
import { gridEditsSchema, type AdjustedComparable, type Valuation, type ValuationGrid } from '../core/valuation/valuation-schemas.js';
import { tempServices } from './helpers/temp-workspace.js';
import { runCli } from './helpers/run-cli.js';

/**
 * The grid on request and the appraiser's edits, on the bundled demo data and model: a plain valuation carries
 * no grid, the grid asked for separately is the one `value --grid` builds, and excluding a comparable, adding a
 * sale by id and overriding a line move the totals and the reconciliation as the sales comparison approach
 * says — checked against the unedited grid and against the sales file itself, not against the edited output.
 */
describe('the adjustment grid on request, with exclusions, added sales and overrides', () => {
  const s = tempServices();
  const DATE = '2015-03-01';
  let plain: Valuation;
  let grid: ValuationGrid;
  const adjusted = (c: Valuation['comparables'][number]): c is AdjustedComparable => 'adjustedPrice' in c;
  const edits = (e: unknown) => gridEditsSchema.parse(e);
  const median = (xs: number[]) => {
    const a = [...xs].sort((x, y) => x - y);
    return a.length % 2 ? a[a.length >> 1] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
  };

  beforeAll(async () => {
    await loadDemoData(s, bundledDemo()!);
    plain = await s.valuation.value('champion', DEMO_HOUSE, { valuationDate: DATE, log: false });
    // As the window asks for it: the valuation's own (normalized) input, not the form's text.
    grid = await s.valuation.grid({ model: plain.modelId, input: plain.input, valuationDate: DATE });
  }, 120_000);
  afterAll(() => s.cleanup());

  it('leaves the grid out of a plain valuation and builds the same one on request', async () => {
    expect(plain.comparables.length).toBe(5);
    expect(plain.comparables.some(adjusted)).toBe(false);
    expect(plain.reconciliation).toBeUndefined();
    const withGrid = await s.valuation.value('champion', DEMO_HOUSE, { valuationDate: DATE, log: false, grid: true });
    expect(withGrid.estimate).toBe(plain.estimate);
    expect(grid.comparables.map((c) => c.rowIndex)).toEqual(plain.comparables.map((c) => c.rowIndex));
    expect(grid.comparables.map((c) => c.adjustedPrice)).toEqual(withGrid.comparables.filter(adjusted).map((c) => c.adjustedPrice));
    expect(grid.reconciliation).toEqual(withGrid.reconciliation);
    expect(grid.comparables.every((c) => !c.excluded && !c.added && c.adjustments.every((a) => !a.override))).toBe(true);
  });

  it('leaves an excluded comparable listed but out of the reconciliation', async () => {
    const out = grid.comparables[1];
    const g = await s.valuation.grid({ model: plain.modelId, input: plain.input, valuationDate: DATE, edits: edits({ excluded: [out.rowIndex] }) });
    expect(g.comparables.length).toBe(5);
    expect(g.comparables.filter((c) => c.excluded).map((c) => c.rowIndex)).toEqual([out.rowIndex]);
    const kept = grid.comparables.filter((c) => c.rowIndex !== out.rowIndex).map((c) => c.adjustedPrice);
    expect(g.reconciliation).toMatchObject({ count: 4, low: Math.min(...kept), high: Math.max(...kept), median: median(kept) });
    expect(g.reconciliation!.differencePct).toBeCloseTo((median(kept) - plain.estimate) / plain.estimate, 12);
    const all = await s.valuation.grid({
      model: plain.modelId,
      input: plain.input,
      valuationDate: DATE,
      edits: edits({ excluded: grid.comparables.map((c) => c.rowIndex) }),
    });
    expect(all.reconciliation).toBeNull();
  });

  it("replaces a line with the appraiser's amount, keeps the model's beside it, and moves the totals", async () => {
    const c = grid.comparables[2];
    const line = c.adjustments.find((a) => a.group === 'location')!;
    const amount = Math.round(line.amount) + 25_000;
    const g = await s.valuation.grid({
      model: plain.modelId,
      input: plain.input,
      valuationDate: DATE,
      edits: edits({ overrides: [{ rowIndex: c.rowIndex, group: 'location', amount, reason: 'backs onto the freeway' }] }),
    });
    const e = g.comparables[2];
    const changed = e.adjustments.find((a) => a.group === 'location')!;
    expect(changed.amount).toBe(amount);
    expect(changed.override).toEqual({ modelAmount: line.amount, reason: 'backs onto the freeway' });
    const others = c.adjustments.filter((a) => a.group !== 'location');
    const net = others.reduce((sum, a) => sum + a.amount, 0) + amount;
    const gross = others.reduce((sum, a) => sum + Math.abs(a.amount), 0) + Math.abs(amount);
    expect(e.adjustedPrice).toBeCloseTo(c.price + net, 6);
    expect(e.adjustedPrice - c.adjustedPrice).toBeCloseTo(amount - line.amount, 6);
    expect(e.netPct).toBeCloseTo(net / c.price, 12);
    expect(e.grossPct).toBeCloseTo(gross / c.price, 12);
    // The other comparables are untouched, and the reconciliation takes the new adjusted price.
    for (const i of [0, 1, 3, 4]) expect(g.comparables[i].adjustedPrice).toBe(grid.comparables[i].adjustedPrice);
    const prices = grid.comparables.map((x, i) => (i === 2 ? c.price + net : x.adjustedPrice));
    expect(g.reconciliation!.median).toBeCloseTo(median(prices), 6);
    expect(g.reconciliation!.mean).toBeCloseTo(prices.reduce((a, b) => a + b, 0) / prices.length, 6);
  });

  it('adds a sale from the workspace by its id, adjusted like the others', async () => {
    const [header, ...lines] = readFileSync(bundledDemo()!.csv, 'utf8').trimEnd().split(/\r?\n/);
    const names = header.split(',');
    const col = (n: string) => names.indexOf(n);
    const ids = new Map<string, number>();
    for (const l of lines) {
      const id = l.split(',')[col('id')];
      ids.set(id, (ids.get(id) ?? 0) + 1);
    }
    // A property sold once, far down the file, and not already a comparable.
    const have = new Set(grid.comparables.map((c) => c.rowIndex));
    const rowIndex = lines.findIndex((l, i) => i > 10_000 && !have.has(i) && ids.get(l.split(',')[col('id')]) === 1);
    const fields = lines[rowIndex].split(',');
    const id = fields[col('id')];
    const g = await s.valuation.grid({ model: plain.modelId, input: plain.input, valuationDate: DATE, edits: edits({ added: [id] }) });
    expect(g.comparables.length).toBe(6);
    const added = g.comparables.find((c) => c.added)!;
    expect(added).toMatchObject({ rowIndex, saleId: id, price: Number(fields[col('price')]) });
    expect(g.reconciliation!.count).toBe(6);
    // Valued on its own at its sale date, the added sale's adjusted price is its price moved by the two estimates' difference.
    const record = Object.fromEntries(names.map((n, i) => [n, fields[i]]).filter(([n]) => n !== 'price' && n !== 'date'));
    const own = await s.valuation.value('champion', record, { valuationDate: added.saleDate!, log: false });
    expect(added.adjustedPrice).toBeCloseTo(added.price + plain.estimate - own.estimate, 2);
  });

  it('refuses edits that would silently do nothing, in words', async () => {
    const refuse = async (e: unknown) => {
      try {
        await s.valuation.grid({ model: plain.modelId, input: plain.input, valuationDate: DATE, edits: edits(e) });
      } catch (err) {
        return err as AppraiseError;
      }
      throw new Error('expected a refusal');
    };
    const unknownRow = await refuse({ overrides: [{ rowIndex: 999_999, group: 'size', amount: 1, reason: 'x' }] });
    expect(unknownRow.code).toBe('INVALID_INPUT');
    expect(unknownRow.message).toMatch(/not in this grid/);
    const unknownId = await refuse({ added: ['no-such-parcel'] });
    expect(unknownId.code).toBe('INVALID_INPUT');
    expect(unknownId.message).toMatch(/no sale with id "no-such-parcel"/);
    expect(gridEditsSchema.safeParse({ overrides: [{ rowIndex: 1, group: 'size', amount: 1, reason: '  ' }] }).success).toBe(false);
  });

  it('saves the edits and the subject with the valuation', async () => {
    const e = edits({
      excluded: [grid.comparables[0].rowIndex],
      overrides: [{ rowIndex: grid.comparables[1].rowIndex, group: 'size', amount: 5000, reason: 'smaller lot' }],
    });
    const v = await s.valuation.value('champion', DEMO_HOUSE, { valuationDate: DATE, log: false, edits: e });
    const subject = { address: '1 Test Way, Seattle', client: 'A. Client', appraiserName: 'R. Appraiser', effectiveDate: DATE };
    const entry = s.history.save('with edits', { ...v, subject });
    const back = s.history.list().find((h) => h.id === entry.id)!;
    expect(back.valuation.subject).toEqual(subject);
    expect(back.valuation.gridEdits).toEqual(e);
    const comps = back.valuation.comparables.filter(adjusted);
    expect(comps[0].excluded).toBe(true);
    expect(comps[1].adjustments.find((a) => a.group === 'size')!.override!.reason).toBe('smaller lot');
    expect(back.valuation.reconciliation!.count).toBe(4);
  });

  it('gives the CLI the same edited grid, and leaves it out with --no-grid', async () => {
    const e = {
      excluded: [grid.comparables[3].rowIndex],
      overrides: [{ rowIndex: grid.comparables[0].rowIndex, group: 'quality', amount: -12_000, reason: 'dated kitchen' }],
    };
    const api = await s.valuation.grid({ model: plain.modelId, input: plain.input, valuationDate: DATE, edits: edits(e) });
    const ws = ['--workspace', s.workspace.dir, '--json', 'value', 'champion', '--input', JSON.stringify(DEMO_HOUSE), '--date', DATE];
    const cli = await runCli([...ws, '--edits', JSON.stringify(e)]);
    expect(cli.code, cli.stderr).toBe(0);
    const v = JSON.parse(cli.stdout) as Valuation;
    expect(v.comparables.filter(adjusted).map((c) => [c.adjustedPrice, Boolean(c.excluded)])).toEqual(
      api.comparables.map((c) => [c.adjustedPrice, Boolean(c.excluded)]),
    );
    expect(v.reconciliation).toEqual(api.reconciliation);
    const bare = await runCli([...ws, '--no-grid']);
    expect(bare.code, bare.stderr).toBe(0);
    expect((JSON.parse(bare.stdout) as Valuation).comparables.some(adjusted)).toBe(false);
  }, 60_000);
});
