import { chiSquareSurvival } from './drift-statistics.js';

/** The Wilcoxon signed-rank test of paired differences, by its normal approximation. */
export interface SignedRankTest {
  /** Pairs compared: non-zero differences (zero differences say nothing about which is better and are dropped). */
  n: number;
  /** Pairs dropped because both sides were equal. */
  zeros: number;
  /** W⁺: sum of the ranks of |d| over the positive differences. */
  statistic: number;
  /** Standardised W⁺ (no continuity correction), with the tie correction in its variance. */
  z: number;
  /** One-sided p-value for "the differences tend to be positive". */
  pValue: number;
  /** Two-sided p-value. */
  pValueTwoSided: number;
  /** Matched-pairs rank-biserial correlation (W⁺ − W⁻)/(W⁺ + W⁻): +1 all positive, −1 all negative. */
  effectSize: number;
}

/** P(Z > z) for a standard normal Z, through χ²₁ (Z² is χ² with one degree of freedom), accurate in both tails. */
export function normalSurvival(z: number): number {
  if (!Number.isFinite(z)) return z > 0 ? 0 : 1;
  const twoTail = chiSquareSurvival(z * z, 1);
  return z >= 0 ? twoTail / 2 : 1 - twoTail / 2;
}

/**
 * Wilcoxon signed-rank test on paired differences `d` (e.g. champion's |log error| − challenger's on the same
 * sales: positive means the challenger was closer). Written out rather than taken from a library so that the
 * steps are visible and testable against scipy.stats.wilcoxon(d, zero_method='wilcox', correction=False,
 * method='approx'): zeros dropped, |d| ranked with average ranks for ties, W⁺ standardised with
 * var = n(n+1)(2n+1)/24 − Σ(t³ − t)/48 over tie groups of size t. The normal approximation is good from about
 * 20 pairs; monitoring asks for far more before it acts on the result.
 */
export function wilcoxonSignedRank(d: ArrayLike<number>): SignedRankTest {
  const nonZero: number[] = [];
  for (let i = 0; i < d.length; i++) if (d[i] !== 0 && Number.isFinite(d[i])) nonZero.push(d[i]);
  const n = nonZero.length;
  const zeros = d.length - n;
  if (n === 0) return { n, zeros, statistic: 0, z: 0, pValue: 1, pValueTwoSided: 1, effectSize: 0 };
  const order = Int32Array.from(nonZero.keys()).sort((a, b) => Math.abs(nonZero[a]) - Math.abs(nonZero[b]));
  let wPlus = 0;
  let tieTerm = 0;
  for (let i = 0; i < n;) {
    let j = i;
    const v = Math.abs(nonZero[order[i]]);
    while (j + 1 < n && Math.abs(nonZero[order[j + 1]]) === v) j++;
    const t = j - i + 1;
    const rank = (i + j + 2) / 2; // ranks are 1-based: the average of i+1 … j+1
    for (let k = i; k <= j; k++) if (nonZero[order[k]] > 0) wPlus += rank;
    if (t > 1) tieTerm += t * t * t - t;
    i = j + 1;
  }
  const total = (n * (n + 1)) / 2;
  const mean = total / 2;
  const variance = (n * (n + 1) * (2 * n + 1)) / 24 - tieTerm / 48;
  const z = variance > 0 ? (wPlus - mean) / Math.sqrt(variance) : 0;
  return {
    n,
    zeros,
    statistic: wPlus,
    z,
    pValue: normalSurvival(z),
    pValueTwoSided: Math.min(1, 2 * normalSurvival(Math.abs(z))),
    effectSize: (wPlus - (total - wPlus)) / total,
  };
}
