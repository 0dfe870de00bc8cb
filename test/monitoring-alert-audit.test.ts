import { test, expect, beforeAll, afterAll } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kcSalesLines } from './helpers/kc-sales-lines.js';
import { tempServices, kcConfig } from './helpers/temp-workspace.js';
import { runCli } from './helpers/run-cli.js';
import type { StoredAlert } from '../core/monitoring/monitoring-schemas.js';
import type { AuditPage } from '../core/audit/audit-schemas.js';
import { manualClock } from './helpers/manual-clock.js';

/**
 * Monitoring alerts in the audit trail: each alert a check raises is an entry committed with it, acknowledging one
 * is an entry naming who did it, and `appraise audit list` shows both. A small champion (few trees) on real King
 * County sales; its valuations then sell for 30 % more, so the ratio study must raise an alert.
 */
const s = tempServices();
afterAll(() => s.cleanup());

const { lines, header } = kcSalesLines();
const toRow = (l: string) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v]));
let stored: StoredAlert[] = [];

beforeAll(async () => {
  const train = join(s.dir, 'train.csv');
  writeFileSync(train, [lines[0], ...lines.slice(1, 1501)].join('\n'));
  const ds = (await s.datasets.ingest({ file: train, config: kcConfig() })).datasetId;
  const { modelId } = await s.training.train({ dataset: ds, folds: 2, params: { nRounds: 40, learningRate: 0.2 }, seed: 1 });
  s.models.promote(modelId);
  const since = new Date().toISOString();
  for (const l of lines.slice(1501, 1621)) {
    const row = toRow(l);
    const v = await s.valuation.value('champion', row);
    s.monitoring.recordSale(v.predictionId!, Number(row.price) * 1.3);
  }
  stored = s.monitoring.checkAlerts({ since });
}, 240_000);

const cli = (...args: string[]) => runCli(['-w', s.workspace.dir, '--json', ...args]);

test('each raised alert is an audit entry naming the alert, its model and rule', async () => {
  expect(stored.map((a) => a.rule)).toContain('accuracy.medianRatio');
  const r = await cli('audit', 'list', '-n', '200');
  expect(r.code).toBe(0);
  const raised = (JSON.parse(r.stdout) as AuditPage).entries.filter((e) => e.action === 'monitoring.alert');
  expect(raised.map((e) => e.ids.alert).sort()).toEqual(stored.map((a) => a.id).sort());
  const ratio = stored.find((a) => a.rule === 'accuracy.medianRatio')!;
  expect(raised.find((e) => e.ids.alert === ratio.id)?.ids).toMatchObject({ model: ratio.modelId, rule: ratio.rule, severity: ratio.severity });
  expect(stored.every((a) => a.acknowledged === null)).toBe(true);
});

test('`appraise monitor acknowledge` records who and why once; the alert list shows it', async () => {
  const target = stored[0];
  const r = await cli('monitor', 'acknowledge', String(target.id), '--note', 'prices rose; retraining');
  expect(r.code, r.stderr).toBe(0);
  const acked = JSON.parse(r.stdout) as StoredAlert;
  expect(acked.acknowledged).toMatchObject({ note: 'prices rose; retraining' });
  expect(acked.acknowledged!.by.length).toBeGreaterThan(0);

  // A second acknowledgement changes nothing and adds no entry.
  const again = await cli('monitor', 'acknowledge', String(target.id), '--note', 'other note');
  expect((JSON.parse(again.stdout) as StoredAlert).acknowledged).toEqual(acked.acknowledged);

  const list = JSON.parse((await cli('monitor', 'alerts')).stdout) as StoredAlert[];
  expect(list.find((a) => a.id === target.id)?.acknowledged).toEqual(acked.acknowledged);
  expect(list.filter((a) => a.acknowledged).map((a) => a.id)).toEqual([target.id]);

  const entries = (JSON.parse((await cli('audit', 'list', '-n', '200')).stdout) as AuditPage).entries;
  const ack = entries.filter((e) => e.action === 'monitoring.alert-acknowledge');
  expect(ack).toHaveLength(1);
  expect(ack[0]).toMatchObject({ actor: acked.acknowledged!.by, outcome: 'ok', ids: { alert: target.id, rule: target.rule } });
  expect((await cli('audit', 'verify')).code).toBe(0);
});

test('acknowledging an alert that does not exist, or a malformed id, is a clear error', async () => {
  const missing = await runCli(['-w', s.workspace.dir, 'monitor', 'acknowledge', '999999']);
  expect(missing.code).not.toBe(0);
  expect(missing.stderr).toMatch(/no monitoring alert 999999/);
  const bad = await runCli(['-w', s.workspace.dir, 'monitor', 'acknowledge', 'abc']);
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toMatch(/positive whole number/);
  expect(() => s.monitoring.acknowledgeAlert({ id: stored[0].id, note: 'x'.repeat(1001) })).toThrow(/under 1000/);
});

const HOUR = 3_600_000;

test('the scheduler catches up once after the app was closed, then runs once per interval, never two at once', async () => {
  const { MonitoringScheduler } = await import('../core/monitoring/monitoring-scheduler.js');
  expect(s.monitoring.setSchedule({ everyHours: 24 }).intervalHours).toBe(24);
  // The app opens a day after the valuations; no check has run yet: one runs at once, over all of them.
  const clock = manualClock(new Date(Date.now() + 24 * HOUR));
  const runs: string[] = [];
  const scheduler = new MonitoringScheduler(s.monitoring, { clock, firstDelayMs: 0, onCheck: (c) => c.ran && runs.push(c.at) });
  scheduler.start();
  clock.advance(0);
  expect(runs).toEqual([clock.now().toISOString()]);
  const first = s.monitoring.schedule();
  expect(first.lastRunAt).toBe(runs[0]);
  expect(Date.parse(first.nextDueAt!) - Date.parse(runs[0])).toBe(24 * HOUR);
  // Hours pass: nothing more until the interval is up, then exactly one more.
  clock.advance(23 * HOUR);
  expect(runs).toHaveLength(1);
  clock.advance(2 * HOUR);
  expect(runs).toHaveLength(2);
  scheduler.stop();
  expect(clock.pending()).toBe(0);

  // Closed for three days: on the next start one catch-up check, not three.
  clock.advance(72 * HOUR);
  const again = new MonitoringScheduler(s.monitoring, { clock, firstDelayMs: 0, onCheck: (c) => c.ran && runs.push(c.at) });
  again.start();
  clock.advance(0);
  expect(runs).toHaveLength(3);
  // Asked again at the same moment (another tick, or a CLI): not due, nothing runs.
  const sched = s.monitoring.schedule();
  expect(s.monitoring.runScheduledCheck(clock.now())).toMatchObject({ ran: false, reason: 'not-due' });
  again.stop();
  expect(sched.lastRunAt).toBe(runs[2]);

  // Off: nothing runs however late it is.
  s.monitoring.setSchedule({ everyHours: null });
  expect(s.monitoring.runScheduledCheck(new Date(clock.now().getTime() + 1000 * HOUR))).toMatchObject({ ran: false, reason: 'off' });
  expect(() => s.monitoring.setSchedule({ everyHours: 0 })).toThrow(/0.25 to 2160 hours/);
  const entries = (JSON.parse((await cli('audit', 'list', '-n', '500')).stdout) as AuditPage).entries;
  expect(entries.filter((e) => e.action === 'settings.change' && e.ids.setting === 'monitoring.schedule')).toHaveLength(2);
});

test('`appraise monitor schedule` shows and sets the interval', async () => {
  const set = await cli('monitor', 'schedule', '--every', '12');
  expect(set.code, set.stderr).toBe(0);
  expect(JSON.parse(set.stdout)).toMatchObject({ intervalHours: 12 });
  const off = await cli('monitor', 'schedule', '--off');
  expect(JSON.parse(off.stdout)).toMatchObject({ intervalHours: null, nextDueAt: null });
  const bad = await runCli(['-w', s.workspace.dir, 'monitor', 'schedule', '--every', 'daily']);
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toMatch(/--every/);
});
