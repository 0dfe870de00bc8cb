import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openServices } from '../core/services/open-workspace.js';
import { prepareDemoWorkspace } from '../core/app/demo-workspace.js';
import { compileFeatureTransform } from '../core/features/feature-transform.js';
import { SqlitePredictionLog } from '../core/monitoring/sqlite-prediction-log.js';
import { buildMonitoringReport } from '../core/monitoring/monitoring-report.js';
import { recordFigure } from './bench-results.js';

export const description =
  'monitoring report (drift + data quality + ratio study with equity + label-free estimate) over N logged predictions (default 1,000,000; 10 % sold) vs merely reading those rows from SQLite in the same run';

function peakMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export async function run(args: string[]): Promise<void> {
  const rows = Number(args.find((a) => a.startsWith('--rows='))?.slice(7) ?? 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'appraise-bench-monitor-'));
  const s = openServices(join(dir, 'ws'));
  try {
    const { ingest } = await prepareDemoWorkspace(s);
    // The report must time the label-free estimate too (two small tree models over every logged row): a champion
    // without a loss estimator (the bundled model predates it) is replaced by a small one trained here, which has one.
    const champion = s.models.list().find((m) => m.status === 'champion');
    if (!champion || !s.models.manifest(champion.id).lossEstimator) {
      console.log(`${champion ? 'the bundled model has no loss estimator' : 'no bundled model'}: training a small one …`);
      s.models.promote((await s.training.train({ dataset: ingest.datasetId, folds: 2, params: { nRounds: 100 } })).modelId);
    }
    const stored = s.models.load('champion');
    const t = stored.manifest.featureTransform;
    const compiled = compileFeatureTransform(t);
    const m = s.datasetStore.readMatrix(s.datasetStore.get(ingest.datasetId), t, compiled);
    const zip = [...s.datasetStore.iterateRows(s.datasetStore.get(ingest.datasetId), [{ name: 'zipcode' }])].map((r) => r.values[0]);

    // The log, filled with the KC rows over and over: real feature vectors, estimates near the price, 10 % sold.
    const log = new SqlitePredictionLog(s.workspace.db, { days: 100_000, maxRows: 10 * rows });
    const t0 = performance.now();
    const base = Date.parse('2026-01-01T00:00:00Z');
    const insert = s.workspace.db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const r = i % m.nRows;
        const price = Math.exp(m.y[r]);
        const estimate = price * (0.9 + ((i * 7919) % 200) / 1000);
        const id = log.record({
          modelId: stored.summary.id,
          source: 'score',
          predictedAt: new Date(base + i * 1000).toISOString(),
          valuationDate: null,
          propertyId: String(i),
          input: { zipcode: zip[r] ?? null },
          features: m.X.subarray(r * m.nFeatures, (r + 1) * m.nFeatures),
          unseen: [],
          estimate,
          interval: { level: 0.8, low: estimate * 0.85, high: estimate * 1.15 },
        });
        if (i % 10 === 0) log.recordSale(id, price);
      }
    });
    for (let i = 0; i < rows; i += 50_000) insert(i, Math.min(rows, i + 50_000));
    console.log(`logged ${rows.toLocaleString('en-US')} predictions in ${((performance.now() - t0) / 1000).toFixed(1)} s (${m.nFeatures} features each)`);

    // Baseline: the same query the report runs, touching every column, and nothing else.
    const tRead = performance.now();
    let touched = 0;
    for (const r of s.workspace.db
      .prepare(
        'SELECT id, predicted_at, features, unseen, estimate, interval_low, interval_high, sale_price, input_json FROM predictions WHERE model_id = ? ORDER BY predicted_at, rowid',
      )
      .iterate(stored.summary.id) as IterableIterator<{ features: Buffer; estimate: number }>) {
      touched += r.features.byteLength + (r.estimate > 0 ? 1 : 0);
    }
    const readS = (performance.now() - tRead) / 1000;
    const rssAfterRead = peakMiB();

    const tReport = performance.now();
    const report = buildMonitoringReport({ manifest: stored.manifest, summary: stored.summary, log, filter: {} });
    const reportS = (performance.now() - tReport) / 1000;
    console.log(`read rows only:   ${readS.toFixed(2)} s (${touched > 0 ? 'touched' : 'none'})`);
    console.log(`monitoring report: ${reportS.toFixed(2)} s — ${(reportS / readS).toFixed(2)}× the read (target ≤ 2×)`);
    console.log(
      `report: ${report.predictions.toLocaleString('en-US')} predictions, ${report.sold.toLocaleString('en-US')} sold, ${report.drift.features.length} features, ` +
        `${report.equity.groupBy?.groups.length ?? 0} groups, ${report.alerts.length} alerts`,
    );
    // The label-free estimate runs two small tree models over every logged row; say whether it was measured.
    console.log(
      `label-free estimate: ${report.labelFree?.estimated ? `included (estimated RMSE of log price ${report.labelFree.estimated.rmseLog.toFixed(3)})` : `not included — ${report.labelFree?.unavailable ?? 'no report section'}`}`,
    );
    console.log(`peak RSS: ${peakMiB().toFixed(0)} MiB (after the read alone: ${rssAfterRead.toFixed(0)} MiB)`);
    const kase = `${report.predictions.toLocaleString('en-US')} logged predictions`;
    const ratio = reportS / readS;
    recordFigure({ case: kase, metric: 'read rows only', value: Number(readS.toFixed(2)), unit: 's' });
    recordFigure({
      case: kase,
      metric: `monitoring report (drift + quality + ratio study${report.labelFree?.estimated ? ' + label-free estimate' : ''})`,
      value: Number(reportS.toFixed(2)),
      unit: 's',
    });
    recordFigure({ case: kase, metric: 'ratio report / read', value: Number(ratio.toFixed(2)), unit: '×', target: '≤ 2×', met: ratio <= 2 });
    recordFigure({ case: kase, metric: 'peak RSS', value: Math.round(peakMiB()), unit: 'MiB' });
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
