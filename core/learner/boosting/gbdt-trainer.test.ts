import { test, expect } from 'vitest';
import { trainGbdt } from './gbdt-trainer.js';
import { friedmanTable } from '../../../test/fixtures/synthetic-regression.js';
import { FastTreePredictor } from '../model/fast-predictor.js';
import { predictRaw } from '../model/tree-model.js';
import type { TrainingData } from '../data/training-data.js';

const rmse = (a: Float64Array, b: Float64Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0) / a.length);

test('fits Friedman #1 (+ categorical, missing) close to the noise floor', async () => {
  const train = friedmanTable(4000, 1);
  const test_ = friedmanTable(2000, 2);
  const { model, bestIteration, history } = await trainGbdt(train, { learningRate: 0.1, nRounds: 400 }, { threads: 1 });
  expect(bestIteration).toBeGreaterThan(50);
  expect(history.length).toBeGreaterThanOrEqual(bestIteration);
  const pred = new FastTreePredictor(model).predict(test_.X, test_.nRows);
  // Noise sd is 1 and Var(y) ≈ 27: an RMSE against the noise-free truth below 0.9 means the function was learned.
  const sdY = Math.sqrt(test_.y.reduce((s, v) => s + (v - test_.y.reduce((a, b) => a + b) / test_.nRows) ** 2, 0) / test_.nRows);
  expect(sdY).toBeGreaterThan(4);
  expect(rmse(pred, test_.truth)).toBeLessThan(0.9);
});

test('a categorical split recovers the planted category set; missing values learn their direction', async () => {
  // y depends only on whether cat ∈ {1, 4, 7, 10}, and on x0 being missing (missing acts as "high").
  const n = 3000;
  const X = new Float32Array(n * 2);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const cat = i % 12;
    const missing = i % 7 === 0;
    const x0 = ((i * 7) % 10) / 10; // 0, 0.1, …, 0.9: few distinct values, so bins are exact
    X[2 * i] = cat;
    X[2 * i + 1] = missing ? NaN : x0;
    y[i] = ([1, 4, 7, 10].includes(cat) ? 5 : 0) + (missing || x0 > 0.5 ? 2 : 0);
  }
  const data: TrainingData = { nRows: n, nFeatures: 2, X, y, featureNames: ['cat', 'x0'], featureKinds: ['categorical', 'numeric'], categoryCounts: [12, 0] };
  const { model } = await trainGbdt(data, { nRounds: 1, learningRate: 1, maxLeaves: 4, lambda: 0, earlyStoppingRounds: 0, colsampleByTree: 1 }, { threads: 1 });
  const t = model.trees[0];
  expect(t.feature[0]).toBe(0);
  const rootSet = t.categories[0]!;
  // Left gets at most half the categories: either the planted set or its complement.
  const planted = [1, 4, 7, 10];
  expect(rootSet.length === 4 ? rootSet : [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].filter((c) => !rootSet.includes(c))).toEqual(planted);
  const x0Nodes = t.feature.map((f, i) => (f === 1 ? i : -1)).filter((i) => i >= 0);
  expect(x0Nodes.length).toBe(2);
  for (const i of x0Nodes) {
    expect(t.threshold[i]).toBeGreaterThanOrEqual(0.5);
    expect(t.threshold[i]).toBeLessThan(0.6);
    expect(t.defaultLeft[i]).toBe(0); // missing goes with the high values (right)
  }
  // The fit is exact for every kind of row.
  for (const row of [
    [4, NaN],
    [4, 0.2],
    [0, 0.9],
    [0, NaN],
  ]) {
    const expected = ([1, 4, 7, 10].includes(row[0]) ? 5 : 0) + (Number.isNaN(row[1]) || row[1] > 0.5 ? 2 : 0);
    expect(predictRaw(model, row)).toBeCloseTo(expected, 6);
  }
});

test('early stopping restores the best iteration and reports progress every round', async () => {
  const train = friedmanTable(1500, 4, 3);
  const valid = friedmanTable(500, 5, 3);
  const seen: number[] = [];
  // A large learning rate and deep trees overfit quickly, so the validation curve turns up.
  const r = await trainGbdt(
    train,
    { learningRate: 0.5, maxLeaves: 63, minSamplesLeaf: 2, nRounds: 300, earlyStoppingRounds: 10, lambda: 0 },
    { threads: 1, validation: valid, onProgress: (p) => seen.push(p.round) },
  );
  expect(seen).toEqual(r.history.map((h) => h.round));
  expect(r.history.length).toBeLessThan(300);
  expect(r.history.length).toBe(r.bestIteration + 10);
  expect(r.model.trees.length).toBe(r.bestIteration);
  const losses = r.history.map((h) => h.validLoss!);
  expect(Math.min(...losses)).toBe(losses[r.bestIteration - 1]);
  const pred = new FastTreePredictor(r.model).predict(valid.X, valid.nRows);
  expect(rmse(pred, valid.y)).toBeCloseTo(losses[r.bestIteration - 1], 9);
});

test('warm start keeps the old trees and lowers the loss on new data', async () => {
  const old = friedmanTable(2000, 6);
  // New data: the market moved up by 4 units.
  const fresh = friedmanTable(2000, 7);
  const shifted = { ...fresh, y: fresh.y.map((v) => v + 4) };
  const base = await trainGbdt(old, { nRounds: 100, learningRate: 0.1, earlyStoppingRounds: 0 }, { threads: 1 });
  const predict = (m: typeof base.model, d: TrainingData) => new FastTreePredictor(m).predict(d.X, d.nRows);
  const before = rmse(predict(base.model, shifted), shifted.y);
  const warm = await trainGbdt(shifted, { nRounds: 50, learningRate: 0.1, earlyStoppingRounds: 0 }, { threads: 1, initModel: base.model });
  expect(warm.model.trees.length).toBe(150);
  expect(JSON.stringify(warm.model.trees.slice(0, 100))).toBe(JSON.stringify(base.model.trees));
  expect(warm.model.baseScore).toBe(base.model.baseScore);
  const after = rmse(predict(warm.model, shifted), shifted.y);
  expect(before).toBeGreaterThan(3.5);
  expect(after).toBeLessThan(1.3);
  expect(warm.history[0].trainLoss).toBeLessThan(before);
});

test('Huber loss resists gross outliers that pull squared error off', async () => {
  const train = friedmanTable(3000, 9, 0.5);
  const dirty = Float64Array.from(train.y, (v, i) => (i % 20 === 0 ? v + 60 : v));
  const test_ = friedmanTable(1000, 10);
  const params = { nRounds: 150, learningRate: 0.2, earlyStoppingRounds: 0 };
  const se = await trainGbdt({ ...train, y: dirty }, params, { threads: 1 });
  const hu = await trainGbdt({ ...train, y: dirty }, { ...params, loss: 'huber' }, { threads: 1 });
  const err = (m: typeof se.model) => rmse(new FastTreePredictor(m).predict(test_.X, test_.nRows), test_.truth);
  expect(err(hu.model)).toBeLessThan(err(se.model) * 0.6);
  expect(Math.abs(hu.model.baseScore - 14.4)).toBeLessThan(1.5); // median of y, not pulled by the outliers
});

test('rejects bad input with INVALID_INPUT', async () => {
  const d = friedmanTable(100, 1);
  await expect(trainGbdt({ ...d, y: d.y.subarray(0, 50) }, {}, { threads: 1 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  const badCat = { ...d, X: Float32Array.from(d.X, (v, i) => (i === 5 ? 99 : v)) };
  await expect(trainGbdt(badCat, {}, { threads: 1 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  await expect(trainGbdt(d, { maxBins: 300 }, { threads: 1 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
});
