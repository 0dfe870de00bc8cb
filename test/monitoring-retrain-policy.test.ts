import { afterAll, beforeAll, expect, test } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kcSalesLines } from './helpers/kc-sales-lines.js';
import { kcConfigPath, tempServices } from './helpers/temp-workspace.js';
import { parseConfig } from '../core/config/load-config.js';
import { createAppHost, type AppHost } from '../core/app/app-host.js';
import { jobFinished } from './helpers/job-finished.js';
import type { RetrainingRun, StoredAlert } from '../core/monitoring/monitoring-schemas.js';
import type { AuditEntry } from '../core/audit/audit-schemas.js';

/**
 * The retraining policy's cooldown, new-sales trigger and data window, and the page's "Check now", on a real
 * SQLite workspace. The champion learns from Aug–Dec 2014 King County sales; 60 sales of Jan–Feb 2015 are valued
 * and linked at their own price. Too few valuations for a drift alert (minRows 100), and the only trigger rule is
 * drift.dataset: nothing but `everyNewSales: 40` can start a retraining (minNewSales 1000 is out of reach). `windowMonths: 2` keeps the training
 * sales of the two months before the newest linked sale.
 */
const s = tempServices();
let analyst: AppHost;
let appraiser: AppHost;
const { lines, header, col, isoOf } = kcSalesLines();
const toRow = (l: string) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v]));
const byDate = (from: string, to: string) => lines.slice(1).filter((l) => isoOf(l.split(',')[col('date')]) >= from && isoOf(l.split(',')[col('date')]) < to);
const DAY = 86_400_000;
let newestLinked = '';
let trained: RetrainingRun;

const auditOf = (action: string): AuditEntry[] => s.audit.list(1000).entries.filter((e) => e.action === action);

beforeAll(async () => {
  const train = join(s.dir, 'train-2014.csv');
  writeFileSync(train, [lines[0], ...byDate('2014-08-01', '2015-01-01').slice(0, 1500)].join('\n'));
  const yaml = `${readFileSync(kcConfigPath, 'utf8')}
monitoring:
  retraining:
    triggers: [drift.dataset]
    minNewSales: 1000
    everyNewSales: 40
    windowMonths: 2
    folds: 2
    params: { nRounds: 60, learningRate: 0.15 }
`;
  const config = parseConfig(yaml, join(s.dir, 'king-county-policy.yaml'));
  const ds = (await s.datasets.ingest({ file: train, config })).datasetId;
  const { modelId } = await s.training.train({ dataset: ds, folds: 2, params: { nRounds: 60, learningRate: 0.15 }, seed: 1 });
  s.models.promote(modelId);
  for (const l of byDate('2015-01-01', '2015-03-01').slice(0, 60)) {
    const row = toRow(l);
    const v = await s.valuation.value('champion', row);
    s.monitoring.recordSale(v.predictionId!, Number(row.price), isoOf(row.date));
    if (isoOf(row.date) > newestLinked) newestLinked = isoOf(row.date);
  }
  const hostOptions = { services: s, processName: 'none', monitoringChecks: { background: false }, sync: { background: false } } as const;
  analyst = await createAppHost(hostOptions);
  appraiser = await createAppHost({ ...hostOptions, role: 'appraiser' });
}, 300_000);

afterAll(async () => {
  await appraiser?.close();
  await analyst?.close();
  await s.cleanup();
});

test('everyNewSales retrains with no trigger alert, on the sales of the data window plus the new ones, and the run records both', async () => {
  // No alert of the trigger rule (drift.dataset; a ratio-study warning on 60 sales is no trigger here).
  expect(s.monitoring.report({}).alerts.filter((a) => a.rule.startsWith('drift.'))).toEqual([]);
  // The periodic check would start the step: the new sales alone call for it.
  expect(s.monitoring.retrainDue([])).toBe(true);
  trained = await s.monitoring.retrain({});
  expect(trained.action).toBe('trained');
  // Two months back from the newest linked sale, by hand (its day of the month exists in every month).
  const [y, m, d] = newestLinked.split('-').map(Number);
  expect(d).toBeLessThanOrEqual(28);
  const from = new Date(Date.UTC(y, m - 1 - 2, d)).toISOString().slice(0, 10);
  expect(trained.data).toEqual({ cause: 'newSales', newSales: 60, windowMonths: 2, windowFrom: from, cooldownOverridden: false });
  expect(trained.reason).toMatch(/everyNewSales 40/);
  expect(trained.reason).toContain(`training sales since ${from}`);
  // The challenger learned from nothing older than the window (the champion's sales start in August 2014).
  const champion = s.models.manifest('champion');
  const challenger = s.models.manifest(trained.challengerId!);
  expect(champion.saleDateRange!.first < from).toBe(true);
  expect(challenger.saleDateRange!.first >= from).toBe(true);
  expect(challenger.cv?.scheme).toContain(`dataset sales of the 2 month(s) from ${from} plus 60 sales from the prediction log`);
  expect(s.monitoring.retrainingRuns(1)[0]).toEqual(trained);
}, 300_000);

test('within the cooldown a step that would train is skipped with outcome "cooldown" and says until when; the check does not repeat it', async () => {
  // A challenger in shadow is still judged in the cooldown: that is no retraining.
  expect((await s.monitoring.retrain({})).action).toBe('waiting');
  s.monitoring.shadowRemove(trained.challengerId!);
  const run = await s.monitoring.retrain({});
  expect(run.action).toBe('cooldown');
  expect(run.challengerId).toBeNull();
  // The default cooldown: 7 days from the run that trained the challenger.
  expect(Date.parse(run.cooldownUntil!) - Date.parse(trained.at)).toBe(7 * DAY);
  expect(run.reason).toContain(`before ${run.cooldownUntil!.slice(0, 16).replace('T', ' ')} UTC`);
  expect(run.reason).toMatch(/--force/);
  // The history (the page's and `monitor retrain --history`'s) keeps it; the periodic check does not start it again.
  expect((await analyst.dispatcher.call('monitoring.retrainingRuns', { limit: 1 })) as RetrainingRun[]).toEqual([run]);
  expect(s.monitoring.retrainDue([])).toBe(false);
}, 60_000);

test('a person may override the cooldown (force, through the API job), audited; the periodic check may not', async () => {
  await expect(appraiser.dispatcher.call('monitoring.retrain', { force: true })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  await expect(analyst.dispatcher.call('monitoring.retrain', { force: true, trigger: 'schedule' })).resolves.toMatchObject({ jobId: expect.any(String) });
  const refused = analyst.jobs.list().find((j) => j.method === 'monitoring.retrain')!;
  const refusedEnd = await jobFinished(analyst, refused.jobId);
  expect(refusedEnd.error?.code).toBe('INVALID_INPUT');
  const { jobId } = (await analyst.dispatcher.call('monitoring.retrain', { force: true })) as { jobId: string };
  const end = await jobFinished(analyst, jobId);
  expect(end.error).toBeNull();
  const run = end.result as RetrainingRun;
  expect(run).toMatchObject({ action: 'trained', jobId, trigger: 'manual' });
  expect(run.data).toMatchObject({ cause: 'newSales', cooldownOverridden: true });
  expect(run.reason).toMatch(/cooldown was overridden by hand/);
  const entry = auditOf('monitoring.retrain').find((e) => e.ids.job === jobId)!;
  expect(entry).toMatchObject({ outcome: 'ok', ids: { force: 'requested', cooldown: 'overridden', action: 'trained', challenger: run.challengerId } });
  s.monitoring.shadowRemove(run.challengerId!);
}, 300_000);

test('once the cooldown has passed the step goes on to check the triggers', async () => {
  expect((await s.monitoring.retrain({})).action).toBe('cooldown');
  // Both challengers' runs eight days older: the default 7-day cooldown is over.
  s.workspace.db.prepare(`UPDATE retraining_runs SET at = ? WHERE action = 'trained'`).run(new Date(Date.now() - 8 * DAY).toISOString());
  expect(s.monitoring.retrainDue([])).toBe(true);
  // Only valuations from now on count as new: none, so nothing calls for training, and the run says why.
  const run = await s.monitoring.retrain({ since: new Date().toISOString() });
  expect(run.action).toBe('none');
  expect(run.cooldownUntil).toBeNull();
  expect(run.reason).toMatch(/0 new sale\(s\) are linked, 40 retrain without an alert/);
}, 60_000);

test('"Check now" (monitoring.checkAlerts) runs the checks, stores and audits the alerts; analyst only, enforced in core', async () => {
  await expect(appraiser.dispatcher.call('monitoring.checkAlerts', {})).rejects.toMatchObject({ code: 'FORBIDDEN' });
  expect(auditOf('api.refused').some((e) => e.ids.method === 'monitoring.checkAlerts')).toBe(true);
  // Sixty March sales valued and sold at 1.6 × the price the model gives: the ratio study must alert.
  for (const l of byDate('2015-03-01', '2015-04-01').slice(0, 100)) {
    const row = toRow(l);
    const v = await s.valuation.value('champion', row);
    s.monitoring.recordSale(v.predictionId!, v.estimate * 1.6, isoOf(row.date));
  }
  const before = auditOf('monitoring.alert').length;
  expect((await analyst.dispatcher.call('monitoring.alerts', {})) as StoredAlert[]).toEqual([]);
  const checked = (await analyst.dispatcher.call('monitoring.checkAlerts', {})) as StoredAlert[];
  expect(checked.map((a) => a.rule)).toContain('accuracy.medianRatio');
  expect(checked.every((a) => a.acknowledged === null && a.windowSince === null)).toBe(true);
  // The page's list afterwards is what the check stored, and each alert is an entry in the trail.
  const listed = (await appraiser.dispatcher.call('monitoring.alerts', {})) as StoredAlert[];
  expect(listed.map((a) => a.id).sort()).toEqual(checked.map((a) => a.id).sort());
  expect(auditOf('monitoring.alert').length - before).toBe(checked.length);
}, 120_000);
