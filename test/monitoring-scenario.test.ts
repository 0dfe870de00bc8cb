import { test, expect, beforeAll, afterAll } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kcSalesLines } from './helpers/kc-sales-lines.js';
import { tempServices, kcConfig } from './helpers/temp-workspace.js';
import { runCli } from './helpers/run-cli.js';
import { Workspace } from '../core/workspace/workspace.js';
import { SqlitePredictionLog } from '../core/monitoring/sqlite-prediction-log.js';
import { buildMonitoringReport } from '../core/monitoring/monitoring-report.js';
import type { MonitoringReport } from '../core/monitoring/monitoring-schemas.js';

/**
 * Monitoring on real data: a model trained on King County sales before 2015, then fed the 2015 sales in
 * windows, each shifted in one known way. Each window is a time range of the prediction log, so each report sees
 * only its own feed. The model and feeds are seeded; the assertions are about which checks fire, not exact figures.
 */
const s = tempServices();
afterAll(() => s.cleanup());

const { lines, header, col, isoOf } = kcSalesLines();
const before = lines.slice(1).filter((l) => isoOf(l.split(',')[col('date')]) < '2015-01-01');
// Within the months the local price index may be carried forward past the training sales (core/market).
const after = lines.slice(1).filter((l) => isoOf(l.split(',')[col('date')]) >= '2015-01-01' && isoOf(l.split(',')[col('date')]) < '2015-04-01');

let seed = 13;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const shuffled = after
  .map((l) => ({ l, k: random() }))
  .sort((a, b) => a.k - b.k)
  .map((x) => x.l);
const feed = shuffled.slice(0, 700).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v])));
/** The neighbourhood whose sizes get shifted: the ZIP code with most 2015 sales. */
const zipCounts = new Map<string, number>();
for (const l of after) zipCounts.set(l.split(',')[col('zipcode')], (zipCounts.get(l.split(',')[col('zipcode')]) ?? 0) + 1);
const shiftedZip = [...zipCounts.entries()].sort((a, b) => b[1] - a[1])[0][0];
const zipSales = after.filter((l) => l.split(',')[col('zipcode')] === shiftedZip).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v])));

let modelId = '';
type Row = Record<string, string>;

/** Values each row (as typed into the app), then links its sale price; returns the window the report should read. */
async function runWindow(rows: Row[], change: (r: Row) => Row, salePrice: (r: Row) => number): Promise<{ since: string; until: string }> {
  const since = new Date().toISOString();
  for (const row of rows) {
    const input = change({ ...row });
    const v = await s.valuation.value('champion', input);
    expect(v.predictionId).toBeTypeOf('string');
    s.monitoring.recordSale(v.predictionId!, salePrice(row), isoOf(row.date));
  }
  await new Promise((r) => setTimeout(r, 5)); // the next window starts strictly later
  return { since, until: new Date().toISOString() };
}

const alertsOf = (r: MonitoringReport) => r.alerts.map((a) => `${a.rule}:${a.subject}:${a.severity}`);
const driftOf = (r: MonitoringReport, f: string) => r.drift.features.find((x) => x.feature === f)!;

let control: MonitoringReport;
let controlWindow: { since: string; until: string };
let market: MonitoringReport;
let neighbourhood: MonitoringReport;
let subdivision: MonitoringReport;
let subdivisionWindow: { since: string; until: string };

beforeAll(async () => {
  const train = join(s.dir, 'before-2015.csv');
  writeFileSync(train, [lines[0], ...before].join('\n'));
  const ds = (await s.datasets.ingest({ file: train, config: kcConfig() })).datasetId;
  modelId = (await s.training.train({ dataset: ds, folds: 2, params: { nRounds: 600, learningRate: 0.1 }, seed: 1 })).modelId;
  s.models.promote(modelId);
  const price = (r: Row) => Number(r.price);
  // Control: 2015 sales as they are.
  const w0 = (controlWindow = await runWindow(feed, (r) => r, price));
  control = s.monitoring.report(w0);
  // The market moved: the same houses sell for 15 % more.
  const w1 = await runWindow(
    feed,
    (r) => r,
    (r) => price(r) * 1.15,
  );
  market = s.monitoring.report(w1);
  // One neighbourhood's recorded sizes are 60 % larger than what sells (a data-entry change): that ZIP is over-valued.
  const w2 = await runWindow(
    [...feed.filter((r) => r.zipcode !== shiftedZip), ...zipSales],
    (r) =>
      r.zipcode === shiftedZip
        ? { ...r, sqft_living: String(Math.round(Number(r.sqft_living) * 1.6)), sqft_above: String(Math.round(Number(r.sqft_above) * 1.6)) }
        : r,
    price,
  );
  neighbourhood = s.monitoring.report(w2);
  // A new subdivision: a third of the valuations are new houses in a ZIP code the model never saw.
  const w3 = (subdivisionWindow = await runWindow(feed, (r) => (random() < 0.33 ? { ...r, zipcode: '98999', yr_built: '2014', yr_renovated: '0' } : r), price));
  subdivision = s.monitoring.report(w3);
}, 300_000);

test('the no-shift control raises no alert, and its statistics sit inside the IAAO ranges', () => {
  expect(control.predictions).toBe(feed.length);
  expect(control.sold).toBe(feed.length);
  // The one finding allowed is the model's own vertical inequity (PRB), present on its held-out sales from training
  // as well (test/monitoring-shift.test.ts checks that on a same-period control): not a shift.
  expect(alertsOf(control).filter((a) => !a.startsWith('accuracy.prb:'))).toEqual([]);
  expect(control.drift.datasetDrift).toBe(false);
  expect(control.accuracy!.medianRatio).toBeGreaterThan(0.9);
  expect(control.accuracy!.cod).toBeLessThan(15);
  // The sale-date features move with time by construction and are left out of drift checks.
  expect(driftOf(control, 'sale_month').checked).toBe(false);
});

test('prices +15 %: the ratio study alerts (median ratio below 0.90) while no input feature drifts', () => {
  expect(alertsOf(market)).toContain(`accuracy.medianRatio:${modelId}:alert`);
  expect(market.accuracy!.medianRatio).toBeCloseTo(control.accuracy!.medianRatio / 1.15, 2);
  expect(market.alerts.filter((a) => a.rule.startsWith('drift.') || a.rule.startsWith('quality.'))).toEqual([]);
  expect(market.equity.priceTiers.every((t) => t.medianRatio < 0.9)).toBe(true);
});

test("one ZIP code's sizes shifted: that group's equity alert fires, and only for that group", () => {
  const groupAlerts = neighbourhood.alerts.filter((a) => a.rule.startsWith('equity.group'));
  expect(groupAlerts.map((a) => a.subject)).toEqual([`zipcode ${shiftedZip}`]);
  expect(groupAlerts[0].message).toMatch(/over-valued/);
  const g = neighbourhood.equity.groupBy!.groups.find((x) => x.group === shiftedZip)!;
  expect(g.medianRatio).toBeGreaterThan(1.1);
  expect(driftOf(neighbourhood, 'sqft_living').psi).toBeGreaterThan(driftOf(control, 'sqft_living').psi);
  // The feed over-represents that ZIP code, and the ZIP code mix (with its location) is what drifts.
  expect(alertsOf(neighbourhood)).toContain('drift.feature:zipcode:alert');
});

test('a new subdivision: unseen ZIP codes are a data-quality alert and year built / age drift; nothing else does', () => {
  expect(alertsOf(subdivision)).toContain('quality.feature:zipcode:alert');
  const drifted = subdivision.alerts.filter((a) => a.rule === 'drift.feature').map((a) => a.subject);
  expect(drifted).toContain('yr_built');
  expect(drifted).toContain('age_at_sale');
  expect(drifted.every((f) => ['yr_built', 'age_at_sale', 'years_since_renovation', 'yr_renovated'].includes(f))).toBe(true);
  expect(subdivision.drift.datasetDrift).toBe(false);
  const zq = subdivision.quality.find((q) => q.feature === 'zipcode')!;
  expect(zq.unseenShare).toBeGreaterThan(0.25);
  expect(zq.unseenShare).toBeLessThan(0.42);
});

test('the timeline shows drift by day: two quiet days, then the day the new subdivision arrived', () => {
  // The logged rows of the control and subdivision windows, replayed into a fresh log as if made on three days.
  const ws = Workspace.open(join(s.dir, 'timeline-ws'));
  try {
    const log = new SqlitePredictionLog(ws.db);
    const replay = (window: { since: string; until: string }, dayOf: (i: number) => string) => {
      let i = 0;
      s.predictionLog.scan({ modelId, ...window }, (r) => {
        log.record({ ...s.predictionLog.get(r.id), predictedAt: `${dayOf(i++)}T12:00:00.000Z` });
      });
    };
    replay(controlWindow, (i) => (i % 2 === 0 ? '2026-03-02' : '2026-03-03'));
    replay(subdivisionWindow, () => '2026-03-04');
    const stored = s.models.load(modelId);
    const r = buildMonitoringReport({ manifest: stored.manifest, summary: stored.summary, log, filter: {} });
    expect(r.timeline.map((b) => [b.start, b.predictions])).toEqual([
      ['2026-03-02', feed.length / 2],
      ['2026-03-03', feed.length / 2],
      ['2026-03-04', feed.length],
    ]);
    expect(r.timeline.map((b) => b.driftedFeatures)).toEqual([0, 0, 3]); // yr_built, age_at_sale, years_since_renovation
    expect(r.timeline[2].maxPsi!).toBeGreaterThan(0.25);
    expect(r.timeline.slice(0, 2).map((b) => b.maxPsi)).toEqual([0, 0]); // nothing significant on the quiet days
    expect(['yr_built', 'age_at_sale', 'years_since_renovation']).toContain(r.timeline[2].maxPsiFeature);
    expect(r.timeline.every((b) => b.sold === 0 && b.medianRatio === null)).toBe(true); // the replay carries no sales
  } finally {
    ws.close();
  }
});

test('a valuation asked not to be logged (the app warm-up) leaves the log alone', async () => {
  const before = s.predictionLog.count({ modelId });
  const v = await s.valuation.value('champion', feed[0], { log: false });
  expect(v.predictionId).toBeUndefined();
  expect(s.predictionLog.count({ modelId })).toBe(before);
});

test('the report validates against its versioned schema and a bad window is a typed error', async () => {
  const { monitoringReportSchema } = await import('../core/monitoring/monitoring-schemas.js');
  expect(monitoringReportSchema.parse(subdivision).format).toBe('appraise-monitoring/2');
  expect(() => s.monitoring.report({ since: 'yesterday' })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }) as Error);
});

test('the CLI prints the same report as JSON, and links a sales file to valuations by property id', async () => {
  const ws = s.workspace.dir;
  const r = await runCli(['-w', ws, '--json', 'monitor', 'report', '--since', subdivisionWindow.since, '--until', subdivisionWindow.until]);
  expect(r.code).toBe(0);
  const printed = JSON.parse(r.stdout) as MonitoringReport;
  expect(printed.alerts).toEqual(subdivision.alerts);
  expect(printed.predictions).toBe(subdivision.predictions);

  // Five new valuations await their prices; a sales file in the dataset's own format (M/D/YYYY dates) links them.
  const rows = feed.slice(0, 5);
  const ids: string[] = [];
  for (const row of rows) ids.push((await s.valuation.value('champion', row)).predictionId!);
  const file = join(s.dir, 'sales.csv');
  writeFileSync(file, ['id,date,price', ...rows.map((x) => `${x.id},${x.date},${Number(x.price) + 1000}`), ',1/1/2015,5', '12345,1/1/2015,oops'].join('\n'));
  const linked = await runCli(['-w', ws, '--json', 'monitor', 'sales', file]);
  expect(linked.code).toBe(0);
  const out = JSON.parse(linked.stdout) as { matched: number; predictions: number; problems: { line: number }[] };
  expect(out.matched).toBe(5);
  expect(out.predictions).toBe(5); // the earlier windows' valuations of these houses already had their prices
  expect(out.problems.map((p) => p.line)).toEqual([7, 8]);
  rows.forEach((row, i) => expect(s.predictionLog.get(ids[i])).toMatchObject({ salePrice: Number(row.price) + 1000, saleDate: isoOf(row.date) }));

  const bad = await runCli(['-w', ws, '--json', 'monitor', 'sale', ids[0], '--price', '-3']);
  expect(bad.code).not.toBe(0);
  expect(JSON.parse(bad.stdout)).toMatchObject({ error: { code: 'INVALID_INPUT' } });
});
