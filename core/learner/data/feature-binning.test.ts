import { test, expect } from 'vitest';
import { binMatrix, binOf, fitFeatureBins, float32Between } from './feature-binning.js';
import { SeededRandom } from '../../common/seeded-random.js';
import type { TrainingData } from './training-data.js';

function column(values: number[], kind: 'numeric' | 'categorical' = 'numeric', categories = 0): TrainingData {
  return {
    nRows: values.length,
    nFeatures: 1,
    X: Float32Array.from(values),
    y: new Float64Array(values.length),
    featureNames: ['x'],
    featureKinds: [kind],
    categoryCounts: [categories],
  };
}

test('thresholds reproduce the bin partition exactly for float32 inputs', () => {
  const rng = new SeededRandom(3);
  // Many distinct values (forces quantile bins), heavy ties, tiny gaps between adjacent float32 values.
  const vals: number[] = [];
  for (let i = 0; i < 20_000; i++) vals.push(rng.next() < 0.2 ? 7 : rng.next() * 1000 - 500);
  for (let i = 0; i < 50; i++) vals.push(Math.fround(1 + i * 2 ** -23));
  const d = column(vals);
  const [fb] = fitFeatureBins(d, { maxBins: 255, seed: 0 });
  expect(fb.nValueBins).toBeLessThanOrEqual(255);
  expect(fb.nValueBins).toBeGreaterThan(200);
  expect(fb.thresholds.every((t) => Math.fround(t) === t)).toBe(true);
  const bins = binMatrix(d, [fb]);
  let mismatches = 0;
  for (let i = 0; i < d.nRows; i++) {
    const x = d.X[i];
    for (let b = 0; b < fb.thresholds.length; b++) if (x <= fb.thresholds[b] !== bins[i] <= b) mismatches++;
  }
  expect(mismatches).toBe(0);
  // The tie value sits in one bin only.
  const tieBins = new Set(Array.from(d.X.keys()).filter((i) => d.X[i] === 7).map((i) => bins[i]));
  expect(tieBins.size).toBe(1);
});

test('few distinct values get one bin each with thresholds strictly between them', () => {
  const d = column([3, 1, 2, 2, 1, NaN, 3, 1e-30, 2 ** -20]);
  const [fb] = fitFeatureBins(d, { maxBins: 255, seed: 0 });
  expect(fb.nValueBins).toBe(5);
  expect(fb.missingBin).toBe(5);
  expect(binOf(fb, NaN)).toBe(5);
  expect([1e-30, 2 ** -20, 1, 2, 3].map((v) => binOf(fb, Math.fround(v)))).toEqual([0, 1, 2, 3, 4]);
  expect(fb.thresholds[2]).toBe(1.5);
});

test('float32Between stays in [a, b) even for adjacent float32 values', () => {
  const a = Math.fround(1);
  const b = Math.fround(1 + 2 ** -23);
  const t = float32Between(a, b);
  expect(t >= a && t < b).toBe(true);
  expect(Math.fround(t)).toBe(t);
});

test('maxBins caps the number of value bins', () => {
  const d = column(Array.from({ length: 1000 }, (_, i) => i));
  const [fb] = fitFeatureBins(d, { maxBins: 16, seed: 0 });
  expect(fb.nValueBins).toBe(16);
  const counts = new Array(16).fill(0);
  for (const b of binMatrix(d, [fb])) counts[b]++;
  // Equal-frequency: every bin holds 1000/16 ± 1 rows.
  for (const c of counts) expect(Math.abs(c - 62.5)).toBeLessThanOrEqual(1.5);
});

test('categorical codes are their own bins; beyond maxBins rare codes share an "other" bin', () => {
  const small = column([0, 2, 1, NaN], 'categorical', 3);
  const [fs] = fitFeatureBins(small, { maxBins: 255, seed: 0 });
  expect(Array.from(binMatrix(small, [fs]))).toEqual([0, 2, 1, 3]);

  // 300 codes; code c appears 300 − c times, so codes 0..253 are the most frequent.
  const vals: number[] = [];
  for (let c = 0; c < 300; c++) for (let k = 0; k < 300 - c; k++) vals.push(c);
  const big = column(vals, 'categorical', 300);
  const [fb] = fitFeatureBins(big, { maxBins: 255, seed: 0 });
  expect(fb.nValueBins).toBe(255);
  expect(binOf(fb, 10)).toBe(10);
  expect(binOf(fb, 253)).toBe(253);
  expect(binOf(fb, 254)).toBe(254);
  expect(binOf(fb, 299)).toBe(254);
  expect(fb.binCategory[254]).toBe(-1);
  expect(binOf(fb, NaN)).toBe(255);
});
