import { test, expect } from 'vitest';
import { FastTreePredictor } from './fast-predictor.js';
import { predictRaw, type TreeEnsemble } from './tree-model.js';
import { trainGbdt } from '../boosting/gbdt-trainer.js';
import { friedmanTable } from '../../../test/fixtures/synthetic-regression.js';

test('fast prediction equals predictRaw exactly on a trained model (numeric, categorical, missing)', async () => {
  const train = friedmanTable(3000, 21);
  const { model } = await trainGbdt(train, { nRounds: 60, learningRate: 0.2, earlyStoppingRounds: 0 }, { threads: 1 });
  expect(model.trees.some((t) => t.categories.some((c) => c !== null))).toBe(true);
  const rows = friedmanTable(500, 22);
  const fast = new FastTreePredictor(model).predict(rows.X, rows.nRows);
  for (let i = 0; i < rows.nRows; i++) {
    const row = rows.X.subarray(i * rows.nFeatures, (i + 1) * rows.nFeatures);
    expect(fast[i]).toBe(predictRaw(model, row));
  }
});

test('hand-built tree: threshold ties, unseen and non-integer categories, NaN defaults', () => {
  const model: TreeEnsemble = {
    format: 'appraise-gbdt/1',
    baseScore: 1,
    featureNames: ['a', 'c'],
    featureKinds: ['numeric', 'categorical'],
    categoryCounts: [0, 6],
    trees: [
      {
        feature: [0, 1, -1, -1, -1],
        threshold: [Math.fround(0.1), 0, 0, 0, 0],
        categories: [null, [1, 5], null, null, null],
        defaultLeft: [1, 0, 0, 0, 0],
        left: [1, 3, -1, -1, -1],
        right: [2, 4, -1, -1, -1],
        value: [0, 0, 10, 20, 30],
        cover: [3, 2, 1, 1, 1],
      },
    ],
  };
  const p = new FastTreePredictor(model);
  const rows = [
    [Math.fround(0.1), 1],
    [0.1, 5], // float64 0.1 rounds to the float32 threshold: goes left
    [0.1000001, 1],
    [NaN, 5],
    [0, 2],
    [0, 7], // unseen code
    [0, 1.5],
    [0, NaN],
  ];
  for (const r of rows) expect(p.predictRow(r)).toBe(predictRaw(model, r));
  expect(rows.map((r) => p.predictRow(r))).toEqual([21, 21, 11, 21, 31, 31, 31, 31]);
});
