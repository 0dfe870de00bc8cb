import { test, expect } from 'vitest';
import { findBestSplit, type SplitConstraints } from './split-finder.js';
import type { FeatureBins } from '../data/feature-binning.js';
import { SeededRandom } from '../../common/seeded-random.js';

// One node's histogram over two features: a categorical of many levels and a numeric of two bins, squared error
// (hessian 1 per row). Gradients are drawn row by row, so the noise is that of real rows, not a chosen figure.

const LOOSE: SplitConstraints = {
  lambda: 1,
  minSamplesLeaf: 20,
  minChildWeight: 1e-3,
  minGain: 0,
  catSmooth: 10,
  maxCatThreshold: 1000,
  catL2: 0,
  minDataPerGroup: 1,
};
// LightGBM's categorical defaults, which are ours.
const REGULARISED: SplitConstraints = { ...LOOSE, maxCatThreshold: 32, catL2: 10, minDataPerGroup: 100 };

function categoricalBins(k: number): FeatureBins {
  return {
    kind: 'categorical',
    nValueBins: k,
    missingBin: k,
    thresholds: new Float64Array(0),
    binCategory: Int32Array.from({ length: k }, (_, c) => c),
    categoryBin: Uint8Array.from({ length: k }, (_, c) => c),
  };
}
const numericBins: FeatureBins = {
  kind: 'numeric',
  nValueBins: 2,
  missingBin: 2,
  thresholds: Float64Array.of(0.5),
  binCategory: new Int32Array(0),
  categoryBin: new Uint8Array(0),
};

/**
 * `levels` categories with `rowsPerLevel` rows each; a row's gradient is catEffect[level] + numEffect(side) + N(0,1).
 * The numeric feature puts alternate rows on its two sides.
 */
function node(levels: number, rowsPerLevel: number, catEffect: (c: number) => number, numShift: number, seed: number) {
  const rng = new SeededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const featureBins = [categoricalBins(levels), numericBins];
  const featureOffset = Int32Array.of(0, levels + 1);
  const hist = new Float64Array((levels + 1 + 3) * 2);
  let sumGrad = 0;
  let n = 0;
  for (let c = 0; c < levels; c++)
    for (let r = 0; r < rowsPerLevel; r++) {
      const side = n % 2;
      const g = catEffect(c) + (side === 0 ? -numShift : numShift) + gauss();
      hist[c * 2] += g;
      hist[c * 2 + 1] += 1;
      hist[(levels + 1 + side) * 2] += g;
      hist[(levels + 1 + side) * 2 + 1] += 1;
      sumGrad += g;
      n++;
    }
  return (c: SplitConstraints) => findBestSplit(hist, 0, featureBins, featureOffset, Int32Array.of(0, 1), sumGrad, n, n, c);
}

test('a categorical of many thin levels with no effect: unregularised its noise beats a real numeric effect, regularised it does not', () => {
  // A node of 180 rows (as deep in a tree): 60 levels × 3 rows that carry nothing; the numeric feature shifts the
  // gradient by ±0.4. Regularised, no group of levels reaches minDataPerGroup rows, so the numeric split wins.
  let noiseWinsLoose = 0;
  let noiseWinsRegularised = 0;
  const seeds = 20;
  for (let seed = 1; seed <= seeds; seed++) {
    const find = node(60, 3, () => 0, 0.4, seed);
    if (find(LOOSE)!.feature === 0) noiseWinsLoose++;
    const r = find(REGULARISED)!;
    expect(r.feature).toBe(1);
    if (r.feature === 0) noiseWinsRegularised++;
  }
  expect(noiseWinsLoose).toBeGreaterThanOrEqual(seeds * 0.8);
  expect(noiseWinsRegularised).toBe(0);
});

test('the same many-level categorical with a real effect and enough rows is split, regularised, on its true groups', () => {
  // 60 levels, the even ones 0.8 below the odd ones; 200 rows each, so each level's mean is well measured.
  const find = node(60, 200, (c) => (c % 2 === 0 ? -0.4 : 0.4), 0.05, 7);
  const s = find(REGULARISED)!;
  expect(s.feature).toBe(0);
  const left = [...s.leftBins.subarray(0, 60)].flatMap((b, c) => (b ? [c] : []));
  // At most maxCatThreshold levels go left: 30 of one parity (all of them), none of the other.
  expect(left.length).toBe(30);
  expect(new Set(left.map((c) => c % 2)).size).toBe(1);
  expect(s.countLeft).toBe(30 * 200);
});

test('a split never sends more than maxCatThreshold categories left', () => {
  const find = node(60, 200, (c) => (c % 2 === 0 ? -0.4 : 0.4), 0, 7);
  const s = find({ ...REGULARISED, maxCatThreshold: 12 })!;
  expect(s.feature).toBe(0);
  expect(s.leftBins.subarray(0, 60).reduce((a, b) => a + b, 0)).toBe(12);
});

test('a narrow categorical (no more levels than maxCatThreshold) is searched exactly as without the regularisation', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const find = node(12, 25, (c) => 0.1 * (c % 3), 0.1, seed);
    const a = find(LOOSE)!;
    const b = find(REGULARISED)!;
    expect([b.feature, b.gain, [...b.leftBins]]).toEqual([a.feature, a.gain, [...a.leftBins]]);
  }
});

test('minDataPerGroup keeps both sides of a wide categorical split at least that large', () => {
  // Two strong levels of 40 rows each among 58 empty-effect ones: isolating them would be the best fit.
  const find = node(60, 40, (c) => (c < 2 ? -3 : 0), 0, 3);
  const loose = find(LOOSE)!;
  expect(loose.countLeft).toBeLessThan(100);
  const s = find({ ...REGULARISED, minDataPerGroup: 100 })!;
  expect(Math.min(s.countLeft, s.countRight)).toBeGreaterThanOrEqual(100);
});
