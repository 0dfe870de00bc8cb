import { describe, test, expect } from 'vitest';
import * as ort from 'onnxruntime-node';
import { predictRaw, type TreeEnsemble } from '../learner/model/tree-model.js';
import { exportTreeEnsembleToOnnx, type TargetTransform, type TreeOperator, type TreePrecision } from './export-tree-ensemble.js';
import { syntheticEnsemble, syntheticRows } from '../../test/fixtures/synthetic-ensemble.js';

async function runOnnx(bytes: Uint8Array, X: Float32Array, nRows: number, nFeatures: number) {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    const out = await session.run({ features: new ort.Tensor('float32', X, [nRows, nFeatures]) });
    expect(out.raw.dims).toEqual([nRows, 1]);
    expect(out.value.dims).toEqual([nRows, 1]);
    return { raw: out.raw.data as Float32Array, value: out.value.data as Float32Array };
  } finally {
    await session.release();
  }
}

const inverse: Record<TargetTransform, (x: number) => number> = { log: Math.exp, log1p: (x) => Math.exp(x) - 1, none: (x) => x };

function expectParity(model: TreeEnsemble, X: Float32Array, nRows: number, got: { raw: Float32Array; value: Float32Array }, transform: TargetTransform) {
  const nF = model.featureNames.length;
  let worstRaw = 0;
  let worstValue = 0;
  for (let r = 0; r < nRows; r++) {
    const ref = predictRaw(model, X.subarray(r * nF, (r + 1) * nF));
    const refValue = inverse[transform](ref);
    worstRaw = Math.max(worstRaw, Math.abs(got.raw[r] - ref) / Math.abs(ref));
    worstValue = Math.max(worstValue, Math.abs(got.value[r] - refValue) / Math.abs(refValue));
  }
  expect(worstRaw).toBeLessThan(1e-5);
  expect(worstValue).toBeLessThan(1e-5);
}

const cases: { operator: TreeOperator; precision: TreePrecision; transform: TargetTransform; seed: number; nTrees: number }[] = [
  { operator: 'TreeEnsemble', precision: 'float32', transform: 'log', seed: 11, nTrees: 300 },
  { operator: 'TreeEnsemble', precision: 'float64', transform: 'log1p', seed: 12, nTrees: 120 },
  { operator: 'TreeEnsemble', precision: 'float32', transform: 'none', seed: 13, nTrees: 50 },
  { operator: 'TreeEnsembleRegressor', precision: 'float32', transform: 'log', seed: 14, nTrees: 300 },
  { operator: 'TreeEnsembleRegressor', precision: 'float64', transform: 'log1p', seed: 15, nTrees: 80 },
  { operator: 'TreeEnsembleRegressor', precision: 'float32', transform: 'none', seed: 16, nTrees: 50 },
];

describe('exportTreeEnsembleToOnnx: onnxruntime-node agrees with predictRaw', () => {
  test.each(cases)('$operator $precision $transform, $nTrees trees', async ({ operator, precision, transform, seed, nTrees }) => {
    // Two categorical features: one small (bit-mask path in onnxruntime) and one with 70 levels (large-set path).
    const model = syntheticEnsemble({
      seed,
      nTrees,
      maxDepth: 6,
      nFeatures: 10,
      categorical: { 2: 70, 6: 9 },
      baseScore: transform === 'none' ? 450_000 : 12.5,
    });
    if (transform === 'none') for (const t of model.trees) t.value = t.value.map((v) => Math.round(v * 1e6));
    const nRows = 1500;
    const X = syntheticRows(model, nRows, seed + 100, 0.08);
    const bytes = exportTreeEnsembleToOnnx(model, { targetTransform: transform, operator, precision });
    expectParity(model, X, nRows, await runOnnx(bytes, X, nRows, 10), transform);
  });

  test('single rows evaluate like batches (dynamic N)', async () => {
    const model = syntheticEnsemble({ seed: 3, nTrees: 60, maxDepth: 4, nFeatures: 5, categorical: { 0: 20 } });
    const X = syntheticRows(model, 3, 4);
    const bytes = exportTreeEnsembleToOnnx(model, { targetTransform: 'log' });
    for (let r = 0; r < 3; r++) expectParity(model, X.slice(r * 5, r * 5 + 5), 1, await runOnnx(bytes, X.slice(r * 5, r * 5 + 5), 1, 5), 'log');
  });
});

/** feature 0 categorical with 8 levels; categories {1,3,5} go left (leaf 1.0), others right (leaf 2.0). */
function oneSplit(defaultLeft: 0 | 1, categories: number[] = [1, 3, 5]): TreeEnsemble {
  return {
    format: 'appraise-gbdt/1',
    baseScore: 0,
    featureNames: ['zip'],
    featureKinds: ['categorical'],
    categoryCounts: [8],
    trees: [
      {
        feature: [0, -1, -1],
        threshold: [0, 0, 0],
        categories: [categories, null, null],
        defaultLeft: [defaultLeft, 0, 0],
        left: [1, -1, -1],
        right: [2, -1, -1],
        value: [0, 1, 2],
        cover: [3, 1, 2],
      },
    ],
  };
}

describe.each(['TreeEnsemble', 'TreeEnsembleRegressor'] as const)('%s edge cases', (operator) => {
  test('a one-node model sends categories {1,3,5} left and the others right', async () => {
    const X = Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, Number.NaN]);
    const { raw } = await runOnnx(exportTreeEnsembleToOnnx(oneSplit(0), { targetTransform: 'none', operator }), X, X.length, 1);
    expect(Array.from(raw)).toEqual([2, 1, 2, 1, 2, 1, 2, 2, 2, 2]);
    const left = await runOnnx(exportTreeEnsembleToOnnx(oneSplit(1), { targetTransform: 'none', operator }), X, X.length, 1);
    expect(left.raw[9]).toBe(1); // NaN follows defaultLeft
  });

  test('an empty category set sends every present value right and NaN by defaultLeft', async () => {
    const X = Float32Array.from([0, 1, 5, Number.NaN]);
    const { raw } = await runOnnx(exportTreeEnsembleToOnnx(oneSplit(1, []), { targetTransform: 'none', operator }), X, 4, 1);
    expect(Array.from(raw)).toEqual([2, 2, 2, 1]);
  });

  test('single-leaf trees and numeric ties at the threshold', async () => {
    const model: TreeEnsemble = {
      format: 'appraise-gbdt/1',
      baseScore: 10,
      featureNames: ['sqft'],
      featureKinds: ['numeric'],
      categoryCounts: [0],
      trees: [
        { feature: [-1], threshold: [0], categories: [null], defaultLeft: [0], left: [-1], right: [-1], value: [0.5], cover: [1] },
        {
          feature: [0, -1, -1],
          threshold: [Math.fround(0.1), 0, 0],
          categories: [null, null, null],
          defaultLeft: [0, 0, 0],
          left: [1, -1, -1],
          right: [2, -1, -1],
          value: [0, -1, 1],
          cover: [2, 1, 1],
        },
      ],
    };
    const X = Float32Array.from([0.1, Math.fround(0.1) + 1e-7, -Infinity, Infinity, Number.NaN]);
    const { raw, value } = await runOnnx(exportTreeEnsembleToOnnx(model, { targetTransform: 'log', operator }), X, 5, 1);
    expect(Array.from(raw)).toEqual([9.5, 11.5, 9.5, 11.5, 11.5]);
    expect(value[0]).toBeCloseTo(Math.exp(9.5), -1);
  });
});

describe('exportTreeEnsembleToOnnx rejects broken ensembles', () => {
  const good = () => oneSplit(0);
  test.each([
    ['a child outside the tree', (m: TreeEnsemble) => (m.trees[0].left[0] = 7), /child 7/],
    ['a cycle', (m: TreeEnsemble) => (m.trees[0].right[0] = 0), /reached twice/],
    ['a feature out of range', (m: TreeEnsemble) => (m.trees[0].feature[0] = 3), /feature 3/],
    ['a non-float32 threshold', (m: TreeEnsemble) => ((m.trees[0].categories[0] = null), (m.trees[0].threshold[0] = 0.1)), /float32/],
    ['a fractional category', (m: TreeEnsemble) => (m.trees[0].categories[0] = [1.5]), /category code 1.5/],
    ['mismatched arrays', (m: TreeEnsemble) => m.trees[0].value.pop(), /value has 2 entries/],
  ])('%s', (_name, breakIt, message) => {
    const m = good();
    breakIt(m);
    expect(() => exportTreeEnsembleToOnnx(m, { targetTransform: 'log' })).toThrow(message);
    try {
      exportTreeEnsembleToOnnx(m, { targetTransform: 'log' });
    } catch (e) {
      expect((e as { code: string }).code).toBe('INVALID_INPUT');
    }
  });
});
