import { test, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kcSalesLines } from './helpers/kc-sales-lines.js';
import { tempServices, kcConfigPath } from './helpers/temp-workspace.js';
import { runCli } from './helpers/run-cli.js';
import { parseConfig } from '../core/config/load-config.js';
import { reviewDraw } from '../core/monitoring/review-sampling.js';
import type { ReviewSample } from '../core/monitoring/monitoring-schemas.js';
import type { AuditPage } from '../core/audit/audit-schemas.js';

/**
 * Random sample review (issue 13, #6): a configured share of valuations is drawn when made (seeded by the prediction
 * id, so the queue can be re-derived from the log), verdicts are stored with who and when, audited, and summarised
 * in the monitoring report. A small champion on real King County sales, share 0.3 with a seed of the test's own.
 */
const s = tempServices();
afterAll(() => s.cleanup());
const { lines, header } = kcSalesLines();
const SHARE = 0.3;
const SEED = 'review-test-seed';
const ids: string[] = [];

beforeAll(async () => {
  const yaml = `${readFileSync(kcConfigPath, 'utf8')}\nmonitoring:\n  review:\n    share: ${SHARE}\n    seed: ${SEED}\n`;
  const config = parseConfig(yaml);
  const train = join(s.dir, 'train.csv');
  writeFileSync(train, [lines[0], ...lines.slice(1, 1501)].join('\n'));
  const ds = (await s.datasets.ingest({ file: train, config })).datasetId;
  const { modelId } = await s.training.train({ dataset: ds, folds: 2, params: { nRounds: 30, learningRate: 0.2 }, seed: 1 });
  s.models.promote(modelId);
  for (const l of lines.slice(1501, 1701)) {
    const row = Object.fromEntries(l.split(',').map((v, i) => [header[i], v]));
    ids.push((await s.valuation.value('champion', row)).predictionId!);
  }
  // The app's own warm-up call is not logged, so it cannot be drawn either.
  await s.valuation.value('champion', Object.fromEntries(lines[1701].split(',').map((v, i) => [header[i], v])), { log: false });
}, 240_000);

test('the queue holds exactly the valuations whose seeded draw fell below the share', () => {
  const queue = s.monitoring.reviews({ status: 'all', limit: 1000 });
  const expected = ids.filter((id) => reviewDraw(SEED, id) < SHARE).sort();
  expect(queue.map((q) => q.predictionId).sort()).toEqual(expected);
  // Random, not all or nothing: about 30 % of 200 (binomial sd ≈ 6.5).
  expect(expected.length).toBeGreaterThan(30);
  expect(expected.length).toBeLessThan(90);
  const first = queue[queue.length - 1];
  expect(first.share).toBe(SHARE);
  expect(first.estimate).toBeCloseTo(s.predictionLog.get(first.predictionId).estimate, 6);
  expect(first.review).toBeNull();
  // A different seed draws a different sample.
  expect(ids.filter((id) => reviewDraw('other', id) < SHARE).sort()).not.toEqual(expected);
});

test('verdicts are stored with who and when, audited, refused twice, and summarised in the report', async () => {
  const queue = s.monitoring.reviews({ limit: 1000 }).reverse();
  const [a, b, c, d] = queue;
  s.monitoring.recordReview({ predictionId: a.predictionId, verdict: 'agree' });
  s.monitoring.recordReview({ predictionId: b.predictionId, verdict: 'adjust', amount: b.estimate * 1.1, notes: 'view underrated' });
  s.monitoring.recordReview({ predictionId: c.predictionId, verdict: 'adjust', amount: c.estimate * 0.9 });
  const cli = await runCli(['-w', s.workspace.dir, '--json', 'monitor', 'review', 'record', d.predictionId, '--verdict', 'disagree', '--notes', 'wrong comps']);
  expect(cli.code, cli.stderr).toBe(0);
  const recorded = JSON.parse(cli.stdout) as ReviewSample;
  expect(recorded.review).toMatchObject({ verdict: 'disagree', notes: 'wrong comps', adjustedValue: null });
  expect(recorded.review!.by.length).toBeGreaterThan(0);

  expect(() => s.monitoring.recordReview({ predictionId: a.predictionId, verdict: 'disagree' })).toThrow(/already reviewed/);
  expect(() => s.monitoring.recordReview({ predictionId: queue[4].predictionId, verdict: 'adjust' })).toThrow(/needs the value/);
  expect(() => s.monitoring.recordReview({ predictionId: queue[4].predictionId, verdict: 'agree', amount: 5 })).toThrow(/adjust.*only/);
  const notDrawn = ids.find((id) => reviewDraw(SEED, id) >= SHARE)!;
  expect(() => s.monitoring.recordReview({ predictionId: notDrawn, verdict: 'agree' })).toThrow(/not drawn for review/);

  const r = s.monitoring.report();
  const drawn = ids.filter((id) => reviewDraw(SEED, id) < SHARE).length;
  expect(r.review).toMatchObject({ share: SHARE, valuations: 200, drawn, reviewed: 4, agree: 1, adjust: 2, disagree: 1 });
  expect(r.review!.reviewedShare).toBeCloseTo(4 / drawn, 9);
  expect(r.review!.agreementRate).toBeCloseTo(0.25, 9);
  expect(r.review!.meanAdjustment).toBeCloseTo(0, 6); // +10 % and −10 %
  expect(s.monitoring.reviews({ status: 'open', limit: 1000 })).toHaveLength(drawn - 4);

  const audit = JSON.parse((await runCli(['-w', s.workspace.dir, '--json', 'audit', 'list', '-n', '500'])).stdout) as AuditPage;
  const entries = audit.entries.filter((e) => e.action === 'monitoring.review');
  expect(entries.map((e) => e.ids.prediction).sort()).toEqual([a, b, c, d].map((x) => x.predictionId).sort());
  expect(entries.find((e) => e.ids.prediction === b.predictionId)?.ids).toMatchObject({ verdict: 'adjust' });
});
