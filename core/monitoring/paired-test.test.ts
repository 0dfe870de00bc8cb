import { test, expect } from 'vitest';
import { normalSurvival, wilcoxonSignedRank } from './paired-test.js';

/** The generator of scripts/monitoring-reference.py (MINSTD: every product stays below 2^53, so exact in doubles). */
function minstd(seed: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    seed = (seed * 48271) % 2147483647;
    out.push(seed / 2147483647);
  }
  return out;
}

// Printed by `/usr/bin/python3 scripts/monitoring-reference.py` with Debian's scipy 1.10.1 / numpy 1.24.2:
// scipy.stats.wilcoxon(d, zero_method='wilcox', correction=False, method='approx'); the normal quantiles below from scipy.stats.norm.sf.
const reference = {
  continuous: { n: 300, wPlus: 25193.0, pGreater: 0.0408434122127106, pTwoSided: 0.0816868244254212 },
  ties: { n: 190, wPlus: 11358.0, pGreater: 0.0012827316700152105, pTwoSided: 0.002565463340030421 },
  worse: { n: 120, wPlus: 2452.0, pGreater: 0.998982334357497, pTwoSided: 0.00203533128500621 },
};
const inputs = {
  continuous: minstd(7, 300).map((x) => (Math.floor(x * 2000000) - 900000) / 1000000),
  ties: minstd(11, 200).map((x) => (Math.floor(x * 20) - 9) / 10),
  worse: minstd(3, 120).map((x) => (Math.floor(x * 1000000) - 620000) / 1000000),
};

test.each(Object.keys(reference) as (keyof typeof reference)[])('Wilcoxon signed-rank (%s) equals scipy.stats.wilcoxon', (name) => {
  const r = wilcoxonSignedRank(inputs[name]);
  const ref = reference[name];
  expect(r.n).toBe(ref.n);
  expect(r.zeros).toBe(inputs[name].length - ref.n);
  expect(r.statistic).toBe(ref.wPlus);
  expect(Math.abs(r.pValue - ref.pGreater)).toBeLessThan(1e-9 * Math.max(ref.pGreater, 1e-3));
  expect(Math.abs(r.pValueTwoSided - ref.pTwoSided)).toBeLessThan(1e-9 * Math.max(ref.pTwoSided, 1e-3));
});

test('the tie case has ties and zeros, so the tie correction is exercised', () => {
  const d = inputs.ties;
  expect(d.filter((x) => x === 0).length).toBe(10);
  expect(new Set(d.map(Math.abs)).size).toBeLessThan(12);
});

test('the effect size is +1 when every difference is positive and -1 when every one is negative', () => {
  expect(wilcoxonSignedRank([0.1, 0.2, 0.3, 0.05]).effectSize).toBe(1);
  expect(wilcoxonSignedRank([-0.1, -0.2, -0.3]).effectSize).toBe(-1);
  expect(wilcoxonSignedRank([0, 0]).n).toBe(0);
});

test('normal survival: known quantiles in both tails', () => {
  expect(normalSurvival(1.959963984540054)).toBeCloseTo(0.025, 12);
  expect(normalSurvival(-1.6448536269514722)).toBeCloseTo(0.95, 12);
  expect(normalSurvival(0)).toBeCloseTo(0.5, 14);
  expect(normalSurvival(6) / 9.865876450376946e-10).toBeCloseTo(1, 8);
});
