import { test, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Workspace } from '../workspace/workspace.js';
import { SqlitePredictionLog } from './sqlite-prediction-log.js';
import { SqliteMonitoringStore } from './sqlite-monitoring-store.js';
import type { PredictionRecord } from '../valuation/prediction-sink.js';

const dir = mkdtempSync(join(tmpdir(), 'appraise-mstore-'));
const ws = Workspace.open(dir);
afterAll(() => {
  ws.close();
  rmSync(dir, { recursive: true, force: true });
});
const log = new SqlitePredictionLog(ws.db);
const store = new SqliteMonitoringStore(ws.db);

const record = (over: Partial<PredictionRecord> = {}): PredictionRecord => ({
  modelId: 'champ',
  source: 'value',
  predictedAt: '2026-11-01T10:00:00.000Z',
  valuationDate: '2026-11-01',
  propertyId: null,
  input: { sqft_living: 1800, zipcode: '98103' },
  features: Float32Array.from([1800, 3]),
  unseen: [],
  estimate: 500_000,
  interval: null,
  ...over,
});

test('shadow estimates pair with the sold valuations of the window, and go when their prediction is pruned', () => {
  store.addShadowModel('chal', 'test');
  store.addShadowModel('chal', 'again'); // idempotent
  expect(store.shadowModels()).toEqual(['chal']);
  const a = log.record(record({ predictedAt: '2026-11-01T10:00:00.000Z' }));
  const b = log.record(record({ predictedAt: '2026-11-02T10:00:00.000Z', estimate: 600_000 }));
  const old = log.record(record({ predictedAt: '2020-01-01T10:00:00.000Z' }));
  store.recordShadow([
    { predictionId: a, modelId: 'chal', estimate: 510_000 },
    { predictionId: b, modelId: 'chal', estimate: 590_000 },
    { predictionId: old, modelId: 'chal', estimate: 1 },
    { predictionId: 'gone', modelId: 'chal', estimate: 1 }, // pruned before the background write: skipped
  ]);
  log.recordSale(b, 580_000, '2026-12-01');
  const filter = { modelId: 'champ', since: '2026-01-01T00:00:00.000Z' };
  expect(store.shadowCount(filter, 'chal')).toBe(2);
  const pairs = store.shadowPairs(filter, 'chal');
  expect(pairs.map((p) => [p.predictionId, p.championEstimate, p.challengerEstimate, p.salePrice])).toEqual([[b, 600_000, 590_000, 580_000]]);
  expect(pairs[0].input()).toEqual({ sqft_living: 1800, zipcode: '98103' });
  expect(store.labelledValuations(filter).map((v) => [v.predictionId, v.saleDate])).toEqual([[b, '2026-12-01']]);

  expect(log.prune({ days: 365, maxRows: 100 }, new Date('2026-12-01T00:00:00Z'))).toBe(1);
  const left = ws.db.prepare('SELECT prediction_id FROM shadow_predictions ORDER BY prediction_id').all() as { prediction_id: string }[];
  expect(left.map((r) => r.prediction_id).sort()).toEqual([a, b].sort());
  store.removeShadowModel('chal');
  expect(store.shadowModels()).toEqual([]);
});

test('stored alerts list newest first, by model and time; retraining runs keep their test', () => {
  const alert = { rule: 'accuracy.medianRatio', severity: 'alert' as const, subject: 'm', message: 'median ratio 0.85', value: 0.85, threshold: 0.9 };
  const first = store.storeAlerts('champ', { since: null, until: null }, [alert], new Date('2026-11-01T00:00:00Z'));
  const second = store.storeAlerts('champ', { since: '2026-11-01', until: null }, [{ ...alert, rule: 'drift.feature' }], new Date('2026-11-02T00:00:00Z'));
  store.storeAlerts('other', { since: null, until: null }, [alert], new Date('2026-11-03T00:00:00Z'));
  expect(store.listAlerts({ modelId: 'champ' }).map((a) => a.id)).toEqual([second[0].id, first[0].id]);
  expect(store.listAlerts({ since: '2026-11-02T00:00:00.000Z' }).map((a) => a.modelId)).toEqual(['other', 'champ']);
  expect(store.listAlerts({ limit: 1 })).toHaveLength(1);
  expect(second[0]).toMatchObject({ windowSince: '2026-11-01', rule: 'drift.feature', raisedAt: '2026-11-02T00:00:00.000Z' });

  const test = {
    pairs: 120,
    n: 118,
    statistic: 5000,
    z: 3.1,
    pValue: 0.001,
    effectSize: 0.4,
    championMedianAbsLogError: 0.12,
    challengerMedianAbsLogError: 0.09,
  };
  store.addRetrainingRun({ at: '2026-11-04T00:00:00Z', championId: 'champ', action: 'trained', challengerId: 'chal', reason: 'r1', test: null });
  store.addRetrainingRun({ at: '2026-11-05T00:00:00Z', championId: 'champ', action: 'promoted', challengerId: 'chal', reason: 'r2', test });
  expect(store.retrainingRuns().map((r) => [r.action, r.test])).toEqual([
    ['promoted', test],
    ['trained', null],
  ]);
});

test('an alert is acknowledged once: who, when and the note stay those of the first acknowledgement', () => {
  const alert = { rule: 'drift.feature', severity: 'warning' as const, subject: 'sqft_living', message: 'sqft_living drifted', value: 0.3, threshold: 0.2 };
  const [raised] = store.storeAlerts('ack-model', { since: null, until: null }, [alert], new Date('2026-11-05T00:00:00Z'));
  expect(raised.acknowledged).toBeNull();
  expect(store.alert(raised.id)?.acknowledged).toBeNull();
  const first = store.acknowledgeAlert(raised.id, 'ana', 'checking the new subdivision', new Date('2026-11-06T09:00:00Z'));
  expect(first?.acknowledged).toEqual({ at: '2026-11-06T09:00:00.000Z', by: 'ana', note: 'checking the new subdivision' });
  const again = store.acknowledgeAlert(raised.id, 'bob', null, new Date('2026-11-07T09:00:00Z'));
  expect(again?.acknowledged?.by).toBe('ana');
  expect(store.listAlerts({ modelId: 'ack-model' })[0].acknowledged?.note).toBe('checking the new subdivision');
  expect(store.alert(999_999)).toBeNull();
  expect(store.acknowledgeAlert(999_999, 'ana', null)).toBeNull();
});

test('the schedule defaults to daily; a due check is claimed by one process only', () => {
  expect(store.schedule()).toEqual({ intervalHours: 24, lastRunAt: null, nextDueAt: new Date(0).toISOString() });
  expect(store.claimScheduledRun(null, '2026-11-10T08:00:00.000Z')).toBe(true);
  // The second reader saw the same "never ran" and loses.
  expect(store.claimScheduledRun(null, '2026-11-10T08:00:01.000Z')).toBe(false);
  expect(store.schedule()).toEqual({ intervalHours: 24, lastRunAt: '2026-11-10T08:00:00.000Z', nextDueAt: '2026-11-11T08:00:00.000Z' });
  expect(store.setScheduleInterval(6).nextDueAt).toBe('2026-11-10T14:00:00.000Z');
  expect(store.setScheduleInterval(null)).toEqual({ intervalHours: null, lastRunAt: '2026-11-10T08:00:00.000Z', nextDueAt: null });
});
