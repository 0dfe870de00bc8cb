import { test, expect } from 'vitest';
import { TreeShapExplainer, expectedValue } from './tree-shap.js';
import { predictRaw, type SerializedTree, type TreeEnsemble } from './tree-model.js';
import { trainGbdt } from '../boosting/gbdt-trainer.js';
import { friedmanTable } from '../../../test/fixtures/synthetic-regression.js';

/** v(S): path-dependent conditional expectation of a tree given the features in S (known = follow the row). */
function conditionalExpectation(t: SerializedTree, row: number[], known: Set<number>, i = 0): number {
  if (t.feature[i] === -1) return t.value[i];
  if (known.has(t.feature[i])) {
    const x = Math.fround(row[t.feature[i]]);
    const cats = t.categories[i];
    const left = Number.isNaN(x) ? t.defaultLeft[i] === 1 : cats ? cats.includes(x) : x <= t.threshold[i];
    return conditionalExpectation(t, row, known, left ? t.left[i] : t.right[i]);
  }
  const l = t.left[i];
  const r = t.right[i];
  return (t.cover[l] * conditionalExpectation(t, row, known, l) + t.cover[r] * conditionalExpectation(t, row, known, r)) / t.cover[i];
}

/** Shapley values by enumerating all subsets. */
function bruteForceShapley(model: TreeEnsemble, row: number[]): number[] {
  const m = model.featureNames.length;
  const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
  const v = (mask: number) => {
    const known = new Set<number>();
    for (let f = 0; f < m; f++) if (mask & (1 << f)) known.add(f);
    return model.trees.reduce((s, t) => s + conditionalExpectation(t, row, known), 0);
  };
  const phi = new Array(m).fill(0);
  for (let f = 0; f < m; f++) {
    for (let mask = 0; mask < 1 << m; mask++) {
      if (mask & (1 << f)) continue;
      const size = [...Array(m).keys()].filter((g) => mask & (1 << g)).length;
      phi[f] += ((fact(size) * fact(m - size - 1)) / fact(m)) * (v(mask | (1 << f)) - v(mask));
    }
  }
  return phi;
}

// A hand-built tree over 4 features: feature 0 appears twice on one path (exercises the unwind step), a categorical
// split, and a missing-value default.
const handModel: TreeEnsemble = {
  format: 'appraise-gbdt/1',
  baseScore: 0.5,
  featureNames: ['a', 'b', 'c', 'd'],
  featureKinds: ['numeric', 'numeric', 'categorical', 'numeric'],
  categoryCounts: [0, 0, 4, 0],
  trees: [
    {
      //            0  1  2  3   4  5   6   7  8   9  10
      feature: [0, 1, 2, 0, -1, -1, 3, -1, -1, -1, -1],
      threshold: [0.5, 2, 0, 0.2, 0, 0, 7, 0, 0, 0, 0],
      categories: [null, null, [0, 3], null, null, null, null, null, null, null, null],
      defaultLeft: [1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
      left: [1, 3, 5, 7, -1, -1, 9, -1, -1, -1, -1],
      right: [2, 4, 6, 8, -1, -1, 10, -1, -1, -1, -1],
      value: [0, 0, 0, 0, 3, -2, 0, 1, 4, -1, 6],
      cover: [100, 60, 40, 35, 25, 15, 25, 20, 15, 10, 15],
    },
    {
      feature: [3, 1, -1, -1, -1],
      threshold: [1, 0, 0, 0, 0],
      categories: [null, null, null, null, null],
      defaultLeft: [0, 1, 0, 0, 0],
      left: [1, 3, -1, -1, -1],
      right: [2, 4, -1, -1, -1],
      value: [0, 0, 2, -0.5, 0.7],
      cover: [100, 70, 30, 50, 20],
    },
  ],
};

test('TreeSHAP equals brute-force Shapley values on a small hand-built ensemble', () => {
  const explainer = new TreeShapExplainer(handModel);
  const rows = [
    [0.1, 1, 3, 8],
    [0.3, 3, 1, 0],
    [0.9, NaN, 2, 7.5],
    [NaN, 2, 0, 0.5],
    [0.6, 0, 3, 9],
  ];
  for (const row of rows) {
    const { contributions, expectedValue: ev } = explainer.explain(row);
    const brute = bruteForceShapley(handModel, row);
    for (let f = 0; f < 4; f++) expect(contributions[f]).toBeCloseTo(brute[f], 10);
    const sum = contributions.reduce((s, v) => s + v, 0);
    expect(sum + ev).toBeCloseTo(predictRaw(handModel, row), 10);
  }
  // Expected value = base score + each tree's cover-weighted mean leaf value.
  const coverMean = handModel.trees.reduce((s, t) => s + conditionalExpectation(t, [0, 0, 0, 0], new Set()), 0);
  expect(expectedValue(handModel)).toBeCloseTo(0.5 + coverMean, 12);
});

test('TreeSHAP contributions sum to prediction − expected value on a trained model', async () => {
  const data = friedmanTable(2000, 31);
  const { model } = await trainGbdt(data, { nRounds: 80, learningRate: 0.1, earlyStoppingRounds: 0 }, { threads: 1 });
  const explainer = new TreeShapExplainer(model);
  const rows = friedmanTable(20, 32);
  let maxErr = 0;
  for (let i = 0; i < rows.nRows; i++) {
    const row = Array.from(rows.X.subarray(i * rows.nFeatures, (i + 1) * rows.nFeatures));
    const { contributions, expectedValue: ev } = explainer.explain(row);
    maxErr = Math.max(maxErr, Math.abs(contributions.reduce((s, v) => s + v, 0) + ev - predictRaw(model, row)));
    // The pure-noise feature should matter little next to x3 (coefficient 10).
    expect(Math.abs(contributions[6])).toBeLessThan(1.5);
  }
  expect(maxErr).toBeLessThan(1e-6);
});
