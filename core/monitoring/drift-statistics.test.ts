import { test, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  binCounts,
  chiSquareSurvival,
  chiSquareTest,
  jensenShannonDistance,
  kolmogorovSurvival,
  ksFromCounts,
  ksTwoSample,
  numericBin,
  psi,
} from './drift-statistics.js';
import { referenceHistograms } from '../training/reference-histograms.js';

// Inputs and scipy's answers, written once by scripts/monitoring-reference-values.py (Debian's python3-scipy).
const ref = JSON.parse(readFileSync(new URL('../../test/fixtures/monitoring-reference-values.json', import.meta.url), 'utf8')) as {
  cases: {
    binned: Record<
      string,
      {
        reference: number[];
        current: number[];
        psi: number;
        jensenShannon: number;
        chiSquare: { statistic: number; dof: number; pValue: number };
        ks: { statistic: number; pValue: number };
      }
    >;
    ksTwoSample: { a: number[]; b: number[]; statistic: number; pValueAsymptotic: number };
    chiSquareSurvival: { x: number; dof: number; p: number }[];
    kolmogorovSurvival: { x: number; p: number }[];
  };
};

const close = (actual: number, expected: number, rel = 1e-9) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.max(1e-300, Math.abs(expected)) + 1e-15);

test.each(Object.entries(ref.cases.binned))('binned case "%s": PSI, Jensen–Shannon, chi² and KS equal scipy', (_, c) => {
  close(psi(c.reference, c.current), c.psi);
  close(jensenShannonDistance(c.reference, c.current), c.jensenShannon);
  const chi = chiSquareTest(c.reference, c.current);
  close(chi.statistic, c.chiSquare.statistic);
  expect(chi.dof).toBe(c.chiSquare.dof);
  close(chi.pValue, c.chiSquare.pValue, 1e-7);
  const ks = ksFromCounts(c.reference, c.current);
  close(ks.statistic, c.ks.statistic);
  close(ks.pValue, c.ks.pValue, 1e-7);
});

test('the shifted histogram is flagged and the proportional one is not (PSI 0.1 / 0.25 bands)', () => {
  expect(ref.cases.binned.same.psi).toBeLessThan(0.1);
  expect(psi(ref.cases.binned.shift.reference, ref.cases.binned.shift.current)).toBeGreaterThan(0.25);
});

test('exact two-sample KS on raw samples equals scipy.stats.ks_2samp', () => {
  const c = ref.cases.ksTwoSample;
  const ks = ksTwoSample(c.a, c.b);
  close(ks.statistic, c.statistic);
  close(ks.pValue, c.pValueAsymptotic, 1e-7);
});

test.each(ref.cases.chiSquareSurvival)('chi² survival at x=$x, dof=$dof equals scipy.stats.chi2.sf', ({ x, dof, p }) =>
  close(chiSquareSurvival(x, dof), p, 1e-8),
);
test.each(ref.cases.kolmogorovSurvival)('Kolmogorov survival at x=$x equals scipy.stats.kstwobign.sf', ({ x, p }) => close(kolmogorovSurvival(x), p, 1e-8));

test('numericBin counts new values exactly as referenceHistograms counted the training data', () => {
  const nRows = 2000;
  const X = new Float32Array(nRows);
  for (let i = 0; i < nRows; i++) X[i] = i % 7 === 0 ? NaN : Math.round(((i * 7919) % 1000) / 3); // ties on edges on purpose
  const [h] = referenceHistograms(X, nRows, ['x'], ['numeric'], [0]);
  expect(binCounts(h.edges, X)).toEqual(h.counts);
  expect(numericBin([1, 2, 3], 2)).toBe(1); // a value on an edge belongs to the bin below it
  expect(numericBin([1, 2, 3], 3.5)).toBe(3);
});
