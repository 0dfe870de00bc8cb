import { test, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempServices, kcCsv, kcConfig } from '../../test/helpers/temp-workspace.js';
import { compileFeatureTransform, type FeatureTransform } from '../features/feature-transform.js';
import { resolveGbdtParams } from '../learner/boosting/gbdt-params.js';
import { parseConfig } from '../config/load-config.js';
import type { AppraiseError } from '../common/errors.js';
import { randomFolds } from './folds.js';
import { fitDatasetTransform, outOfFoldPredictions, trainingDataOf } from './training-service.js';
import { marketSetup } from './market-training.js';

// Leakage test: the prices of a test fold must play no part in predicting that fold. Two datasets that differ
// only in the prices of fold 0's rows go through the training pipeline's own steps (dataset → feature
// definition with vocabularies → matrix → fold models with their binning and early stopping); fold 0's
// out-of-fold predictions must be bit-for-bit the same.

const s = tempServices();
afterAll(() => s.cleanup());

const ROWS = 3000;
const FOLDS = 3;
const plan = randomFolds(ROWS, FOLDS, 0);
// Early stopping on (the default): its validation rows must come from the training folds only.
const params = resolveGbdtParams({ nRounds: 120, learningRate: 0.2 });

interface Pipeline {
  transform: FeatureTransform;
  X: Float32Array;
  y: Float64Array;
  oof: Float64Array;
  /** The same folds with the hyper-parameter search on: each fold tunes on its own training rows. */
  tunedOof: Float64Array;
}
const runs: Pipeline[] = [];

async function pipeline(file: string): Promise<Pipeline> {
  const { datasetId } = await s.datasets.ingest({ file, config: kcConfig() });
  const ds = s.datasets.get(datasetId);
  const transform = fitDatasetTransform(s.datasetStore, ds);
  const compiled = compileFeatureTransform(transform);
  const m = s.datasetStore.readMatrix(ds, transform, compiled);
  const data = trainingDataOf(m, compiled);
  // KC has a sale date, so training deflates by a price index: each fold's index must come from its own
  // training rows too (core/training/market-training.ts), or the changed prices would reach fold 0 through it.
  const market = marketSetup(s.datasetStore, ds, transform, compiled, m, null);
  expect(market).not.toBeNull();
  const { oof } = await outOfFoldPredictions(data, plan, params, { concurrency: 2, market: market ? { setup: market, compiled } : undefined });
  const { oof: tunedOof } = await outOfFoldPredictions(data, plan, params, {
    concurrency: 2,
    market: market ? { setup: market, compiled } : undefined,
    tune: { mode: 'fast', fixed: [] },
  });
  return { transform, X: m.X, y: m.y, oof, tunedOof };
}

beforeAll(async () => {
  const lines = readFileSync(kcCsv, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l)
    .slice(0, ROWS + 1);
  const priceAt = lines[0].split(',').indexOf('price');
  // Fold 0's prices scrambled: some tripled, some cut to a third, so no monotone relation survives.
  const changed = lines.map((l, i) => {
    if (i === 0 || plan.fold[i - 1] !== 0) return l;
    const f = l.split(',');
    f[priceAt] = String(Math.round(Number(f[priceAt]) * (i % 2 === 0 ? 3 : 1 / 3)));
    return f.join(',');
  });
  const a = join(s.dir, 'original.csv');
  const b = join(s.dir, 'changed.csv');
  writeFileSync(a, lines.join('\n'));
  writeFileSync(b, changed.join('\n'));
  runs.push(await pipeline(a), await pipeline(b));
}, 400_000);

test("changing the test fold's prices leaves its out-of-fold predictions exactly where they were", () => {
  const [a, b] = runs;
  const fold0 = Array.from(plan.fold.keys()).filter((i) => plan.fold[i] === 0);
  expect(fold0.length).toBeGreaterThan(ROWS / FOLDS - 100);
  // The change is real: every fold-0 price moved, nothing else did.
  expect(fold0.every((i) => a.y[i] !== b.y[i])).toBe(true);
  expect(Array.from(a.y.keys()).filter((i) => plan.fold[i] !== 0 && a.y[i] !== b.y[i])).toEqual([]);
  // Vocabularies and features do not look at prices.
  expect(b.transform).toEqual(a.transform);
  expect(Buffer.from(b.X.buffer).equals(Buffer.from(a.X.buffer))).toBe(true);
  // The assertion of the test: fold 0 is predicted identically.
  expect(fold0.map((i) => b.oof[i])).toEqual(fold0.map((i) => a.oof[i]));
  expect(fold0.every((i) => Number.isFinite(a.oof[i]))).toBe(true);
});

test("with tuning on, each fold's search sees its training rows only: fold 0 still does not move", () => {
  const [a, b] = runs;
  const fold0 = Array.from(plan.fold.keys()).filter((i) => plan.fold[i] === 0);
  expect(fold0.map((i) => b.tunedOof[i])).toEqual(fold0.map((i) => a.tunedOof[i]));
  expect(fold0.every((i) => Number.isFinite(a.tunedOof[i]))).toBe(true);
  // Tuning did change the models (it is not the untuned run again) ...
  expect(fold0.some((i) => a.tunedOof[i] !== a.oof[i])).toBe(true);
  // ... and the folds that trained on the changed prices move, so the check can fail.
  const others = Array.from(plan.fold.keys()).filter((i) => plan.fold[i] > 0);
  expect(others.filter((i) => a.tunedOof[i] !== b.tunedOof[i]).length / others.length).toBeGreaterThan(0.9);
});

test('the check can fail: the other folds, whose models did learn from the changed prices, move', () => {
  const [a, b] = runs;
  const others = Array.from(plan.fold.keys()).filter((i) => plan.fold[i] > 0);
  const moved = others.filter((i) => a.oof[i] !== b.oof[i]).length;
  expect(moved / others.length).toBeGreaterThan(0.9);
});

test('a derived feature may not be computed from the target (it would hand the model the price)', () => {
  const yaml = `version: 1
name: t
dataset:
  columns:
    price: { type: numeric }
    sqft: { type: numeric }
target: { column: price }
features:
  derived:
    - { kind: ratio, name: price_per_sqft, numerator: price, denominator: sqft }
`;
  let error: unknown;
  try {
    parseConfig(yaml);
  } catch (e) {
    error = e;
  }
  expect((error as AppraiseError).code).toBe('INVALID_CONFIG');
  expect((error as AppraiseError).message).toContain('features.derived.0.numerator: "price" is the target');
});
