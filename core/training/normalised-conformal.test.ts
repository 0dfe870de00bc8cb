import { test, expect } from 'vitest';
import { SeededRandom } from '../common/seeded-random.js';
import type { TrainingData } from '../learner/data/training-data.js';
import { FastTreePredictor } from '../learner/model/fast-predictor.js';
import { fsdScale } from '../models/confidence-tier.js';
import { calibratePropertyIntervals, saleTimeFeatures, splitOutOfFold } from './normalised-conformal.js';

// Normalised split conformal on constructed out-of-fold residuals whose spread is known: the FSD it states is the
// standard deviation of estimate/price of that kind of property, and the rows it reports coverage on set nothing.

const N = 4000;
/** Two kinds of property (feature 0: 0 or 1) whose log errors are normal with sd 0.08 and 0.25. */
const SD = [0.08, 0.25];

function constructed(seed: number): { data: TrainingData; oof: Float64Array } {
  const r = new SeededRandom(seed);
  const X = new Float32Array(N * 2);
  const y = new Float64Array(N);
  const oof = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const kind = i % 2;
    X[i * 2] = kind;
    X[i * 2 + 1] = r.next(); // noise feature
    oof[i] = 12 + r.next();
    // Box–Muller normal error, sd by kind
    const z = Math.sqrt(-2 * Math.log(1 - r.next())) * Math.cos(2 * Math.PI * r.next());
    y[i] = oof[i] + SD[kind] * z;
  }
  return { data: { nRows: N, nFeatures: 2, X, y, featureNames: ['kind', 'noise'], featureKinds: ['numeric', 'numeric'], categoryCounts: [0, 0] }, oof };
}
const all = Int32Array.from({ length: N }, (_, i) => i);

test('the FSD scale is the standard deviation of estimate/price on a case computed by hand', () => {
  // Ratios 0.9, 1.1, 0.8, 1.2 (mean 1): population sd √((0.01 + 0.01 + 0.04 + 0.04) / 4).
  const estimate = [90, 110, 80, 120];
  const price = [100, 100, 100, 100];
  expect(fsdScale(estimate, price, [1, 1, 1, 1])).toBeCloseTo(Math.sqrt(0.025), 12);
  // Twice the difficulty, half the scale: the FSD c·ρ of those sales is unchanged.
  expect(fsdScale(estimate, price, [2, 2, 2, 2])).toBeCloseTo(Math.sqrt(0.025) / 2, 12);
  // A sale without a positive price has no ratio and is left out.
  expect(fsdScale([...estimate, 50], [...price, 0], [1, 1, 1, 1, 1])).toBeCloseTo(Math.sqrt(0.025), 12);
});

test('each kind of property is stated the FSD of its own errors, and covered as promised', async () => {
  const { data, oof } = constructed(5);
  const p = await calibratePropertyIntervals(data, all, oof, Math.exp, { seed: 1 });
  const sigma = new FastTreePredictor(p.difficulty);
  for (const kind of [0, 1]) {
    const s = SD[kind];
    // RMS of exp(e) − 1 for e ~ N(0, s²), exactly: E[(e^e − 1)²] = e^{2s²} − 2e^{s²/2} + 1.
    const truth = Math.sqrt(Math.exp(2 * s * s) - 2 * Math.exp((s * s) / 2) + 1);
    // estimate/price = exp(oof − y) = exp(−e): the same distribution.
    const fsd = p.fsdScale * Math.max(p.floor, sigma.predict(Float32Array.from([kind, 0.5]), 1)[0]);
    expect(Math.abs(fsd / truth - 1), `kind ${kind}: FSD ${fsd} vs ${truth}`).toBeLessThan(0.08);
  }
  // FSD ≈ 8 % is High, ≈ 26 % is Low: nearly every sale is in one of the two, as its kind says.
  const n = (t: string) => p.coverage.byTier.find((g) => g.group === t)?.n ?? 0;
  expect(n('High') + n('Low')).toBeGreaterThan(0.95 * p.coverage.overall.n);
  expect(Math.min(n('High'), n('Low'))).toBeGreaterThan(0.4 * p.coverage.overall.n);
  for (const g of [p.coverage.overall, ...p.coverage.byTier.filter((t) => t.n >= 300)])
    for (const c of g.coverage) expect(Math.abs(c.coverage - c.level), `${g.group} ${c.level}`).toBeLessThan(0.035);
});

test('the rows coverage is reported on set nothing: changing their prices changes only the coverage', async () => {
  const { data, oof } = constructed(9);
  const before = await calibratePropertyIntervals(data, all, oof, Math.exp, { seed: 3 });
  const { evaluation, calibration, difficulty } = splitOutOfFold(all, 3);
  expect(evaluation.length + calibration.length + difficulty.length).toBe(N);
  expect(new Set([...evaluation, ...calibration, ...difficulty]).size).toBe(N);
  const y = Float64Array.from(data.y);
  for (const r of evaluation) y[r] = oof[r] + 3 * (y[r] - oof[r]); // errors three times as large
  const after = await calibratePropertyIntervals({ ...data, y }, all, oof, Math.exp, { seed: 3 });
  expect(after.difficulty).toEqual(before.difficulty);
  expect(after.floor).toBe(before.floor);
  expect(after.fsdScale).toBe(before.fsdScale);
  expect(after.levels).toEqual(before.levels);
  // …while the coverage, measured on exactly those rows, falls well below nominal.
  expect(after.coverage.overall.coverage[0].coverage).toBeLessThan(before.coverage.overall.coverage[0].coverage - 0.2);
});

test('σ̂ does not read the sale-time features a valuation holds at the last sale', async () => {
  // Feature 0 says which errors are large; declared a time feature, σ̂ must not split on it (valuations hold it).
  const { data, oof } = constructed(5);
  const p = await calibratePropertyIntervals(data, all, oof, Math.exp, { seed: 1, timeFeatures: [0] });
  expect(p.difficulty.trees.every((t) => !t.feature.includes(0))).toBe(true);
  const sigma = new FastTreePredictor(p.difficulty);
  expect(sigma.predict(Float32Array.from([0, 0.5]), 1)[0]).toBe(sigma.predict(Float32Array.from([1, 0.5]), 1)[0]);
  // Which features those are: the sale date in days and a month index of it, not other dates or ages.
  const features = [
    { name: 'date', kind: 'numeric', spec: { op: 'days', column: 'date', origin: '2014-01-01' } },
    { name: 'listed', kind: 'numeric', spec: { op: 'days', column: 'listed', origin: '2014-01-01' } },
    { name: 'age', kind: 'numeric', spec: { op: 'years_between', fromYear: 'built', toDate: 'date' } },
    { name: 'month', kind: 'numeric', spec: { op: 'month_index', date: 'date', origin: '2014-01' } },
  ] as Parameters<typeof saleTimeFeatures>[0]['features'];
  expect(saleTimeFeatures({ features, saleDate: 'date' })).toEqual([0, 3]);
  expect(saleTimeFeatures({ features, saleDate: null })).toEqual([]);
});
