import { test, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { kcSalesLines } from './helpers/kc-sales-lines.js';
import { tempServices, tempDir, kcConfig } from './helpers/temp-workspace.js';
import { compileFeatureTransform } from '../core/features/feature-transform.js';
import { SqlitePredictionLog } from '../core/monitoring/sqlite-prediction-log.js';
import { SqliteMonitoringStore } from '../core/monitoring/sqlite-monitoring-store.js';
import { migrate } from '../core/workspace/migrations.js';
import type { PredictionRecord } from '../core/valuation/prediction-sink.js';

/**
 * Batch scores in the prediction log (issue 13, #1): every scored row of a batch run is logged with its input,
 * feature vector, estimate, interval and the run's job id, as a single valuation is; challengers in shadow score
 * those rows too; retention bounds the log as for valuations. A small champion on real King County sales.
 */
const s = tempServices();
afterAll(() => s.cleanup());

const { lines, header, col, isoOf } = kcSalesLines();
let championId = '';
let challengerId = '';
let batchFile = '';
const BATCH = 700;

beforeAll(async () => {
  const train = join(s.dir, 'train.csv');
  writeFileSync(train, [lines[0], ...lines.slice(1, 1501)].join('\n'));
  const ds = (await s.datasets.ingest({ file: train, config: kcConfig() })).datasetId;
  championId = (await s.training.train({ dataset: ds, folds: 2, params: { nRounds: 40, learningRate: 0.2 }, seed: 1 })).modelId;
  s.models.promote(championId);
  challengerId = (await s.training.train({ dataset: ds, folds: 2, params: { nRounds: 20, learningRate: 0.3 }, seed: 2 })).modelId;
  s.monitoring.shadowAdd(challengerId);
  // Later sales, and one row the schema refuses (a price column is not needed; a non-numeric size is refused).
  const rows = lines.slice(1501, 1501 + BATCH);
  const broken = rows[10].split(',');
  broken[col('sqft_living')] = 'lots';
  rows[10] = broken.join(',');
  batchFile = join(s.dir, 'batch.csv');
  writeFileSync(batchFile, [lines[0], ...rows].join('\n'));
}, 240_000);

test('every scored row of a batch run is logged with its input, features, estimate, interval and the job id', async () => {
  const out = join(s.dir, 'scores.csv');
  const r = await s.valuation.score('champion', batchFile, out, { jobId: 'job-batch-1' });
  expect(r.failed).toBe(1);
  expect(r.scored).toBe(BATCH - 1);
  expect(r.logged).toEqual({ rows: BATCH - 1, jobId: 'job-batch-1' });
  expect(s.predictionLog.count({ modelId: championId, jobId: 'job-batch-1' })).toBe(BATCH - 1);
  expect(s.predictionLog.count({ modelId: championId, source: 'value' })).toBe(0);

  // The log holds what the output file says, row for row (the output rounds to cents).
  const outLines = readFileSync(out, 'utf8').trim().split('\n');
  const outHeader = outLines[0].split(',');
  const byId = new Map(
    outLines
      .slice(1)
      .map((l) => l.split(','))
      .map((f) => [f[outHeader.indexOf('id')], f]),
  );
  const manifest = s.models.manifest(championId);
  const compiled = compileFeatureTransform(manifest.featureTransform);
  // A model with a price index sees every row at its last sale's date (the index moves the value to the row's own).
  const seen = (input: Record<string, unknown>) =>
    manifest.market && manifest.featureTransform.saleDate ? { ...input, [manifest.featureTransform.saleDate]: manifest.saleDateRange!.last } : input;
  const src = new Map(lines.slice(1501, 1501 + BATCH).map((l) => [l.split(',')[col('id')], l.split(',')]));
  const ids: string[] = [];
  s.predictionLog.scan({ modelId: championId, jobId: 'job-batch-1' }, (row) => ids.push(row.id));
  expect(ids).toHaveLength(BATCH - 1);
  for (const id of ids.slice(0, 50)) {
    const p = s.predictionLog.get(id);
    expect(p.source).toBe('score');
    expect(p.jobId).toBe('job-batch-1');
    const line = byId.get(p.propertyId!)!;
    expect(line, p.propertyId!).toBeDefined();
    expect(p.estimate).toBeCloseTo(Number(line[outHeader.indexOf('appraise_estimate')]), 1);
    expect(p.interval?.level).toBe(0.8);
    expect(p.interval!.low).toBeCloseTo(Number(line[outHeader.indexOf('appraise_low_80')]), 1);
    // The input as in the file (the sale date as the row's valuation date), and its features computed anew.
    const raw = src.get(p.propertyId!)!;
    expect(p.input.sqft_living).toBe(Number(raw[col('sqft_living')]));
    expect(p.valuationDate).toBe(isoOf(raw[col('date')]));
    const { vector } = compiled.fromRecord(seen(p.input) as typeof p.input);
    expect(Array.from(p.features)).toEqual(Array.from(vector));
  }
});

test('the challenger in shadow scores the batch rows too, as it scores the same properties valued one by one', async () => {
  await s.monitoring.settled();
  const store = new SqliteMonitoringStore(s.workspace.db);
  expect(store.shadowCount({ modelId: championId }, challengerId)).toBe(BATCH - 1);
  const shadow = s.workspace.db
    .prepare(
      `SELECT p.property_id AS pid, sp.estimate AS estimate FROM shadow_predictions sp JOIN predictions p ON p.id = sp.prediction_id
       WHERE sp.model_id = ? AND p.job_id = ?`,
    )
    .all(challengerId, 'job-batch-1') as { pid: string; estimate: number }[];
  expect(shadow).toHaveLength(BATCH - 1);
  const batchShadow = new Map(shadow.map((x) => [x.pid, x.estimate]));
  // The same properties valued one by one: the challenger's shadow estimate of each is the one it gave the batch row.
  const shadowOf = s.workspace.db.prepare('SELECT estimate FROM shadow_predictions WHERE prediction_id = ? AND model_id = ?');
  for (const l of lines.slice(1501, 1511)) {
    const row = Object.fromEntries(l.split(',').map((v, i) => [header[i], v]));
    const v = await s.valuation.value('champion', row);
    await s.monitoring.settled();
    const single = (shadowOf.get(v.predictionId!, challengerId) as { estimate: number }).estimate;
    expect(batchShadow.get(row.id)).toBeCloseTo(single, 6);
  }
  // Not logged: a run with log: false.
  await s.valuation.score(challengerId, batchFile, join(s.dir, 'challenger.csv'), {}, { log: false });
  // log: false left nothing in the log.
  expect(s.predictionLog.count({ modelId: challengerId })).toBe(0);
});

test('a batch scored from a workspace dataset is logged too, and its sales link to it', async () => {
  const file = join(s.dir, 'later.csv');
  writeFileSync(file, [lines[0], ...lines.slice(3001, 3301)].join('\n'));
  const ds = (await s.datasets.ingest({ file, config: kcConfig(), name: 'later' })).datasetId;
  const r = await s.valuation.score('champion', ds, join(s.dir, 'later-scores.csv'), { jobId: 'job-dataset' }, { log: true });
  expect(r.logged?.rows).toBe(r.scored);
  expect(s.predictionLog.count({ modelId: championId, jobId: 'job-dataset' })).toBe(r.scored);
  const sales = lines
    .slice(3001, 3051)
    .map((l) => l.split(','))
    .map((f) => ({ propertyId: f[col('id')], price: Number(f[col('price')]) }));
  const linked = s.monitoring.recordSales(sales);
  expect(linked.matched).toBe(new Set(sales.map((x) => x.propertyId)).size);
});

test('recordMany logs a chunk in one transaction and the retention bound applies to batch rows', () => {
  const { dir, cleanup } = tempDir();
  const db = new Database(join(dir, 'log.sqlite'));
  try {
    migrate(db);
    const log = new SqlitePredictionLog(db, { days: 3650, maxRows: 1200 });
    const rec = (i: number): PredictionRecord => ({
      modelId: 'm',
      source: 'score',
      predictedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      valuationDate: null,
      propertyId: `p${i}`,
      input: { a: i },
      features: Float32Array.of(i),
      unseen: [],
      estimate: 100 + i,
      interval: null,
      jobId: 'j',
    });
    const ids = log.recordMany(Array.from({ length: 1500 }, (_, i) => rec(i)));
    expect(ids).toHaveLength(1500);
    expect(new Set(ids).size).toBe(1500);
    // Pruned to the newest 1200 right after the chunk (the oldest go).
    expect(log.count({ modelId: 'm' })).toBe(1200);
    const first: number[] = [];
    log.scan({ modelId: 'm' }, (r) => first.length < 1 && first.push(r.estimate));
    expect(first[0]).toBe(100 + 300);
    // A chunk that fails part-way leaves nothing of it behind.
    const bad = [rec(2000), { ...rec(2001), modelId: null as unknown as string }];
    expect(() => log.recordMany(bad)).toThrow();
    expect(log.count({ modelId: 'm', jobId: 'j' })).toBe(1200);
  } finally {
    db.close();
    cleanup();
  }
});
