/**
 * Drift statistics, implemented once: population stability index, two-sample Kolmogorov–Smirnov, Jensen–Shannon
 * distance and Pearson's chi² goodness of fit, on bin counts (the manifest's reference histograms) or raw samples.
 * Checked against scipy on fixed inputs (drift-statistics.test.ts, scripts/monitoring-reference-values.py).
 */

/**
 * Bin index of `v` in the reference histogram's numeric bins: bin b holds edges[b-1] < v ≤ edges[b], the last bin
 * everything above the last edge — exactly how `referenceHistograms` (core/training) counted the training data.
 */
export function numericBin(edges: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v > edges[mid]) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Empty bins get this share instead of 0 so that PSI and chi² stay finite (the value Evidently uses); a bin empty
 * in both samples contributes nothing either way.
 */
export const EMPTY_BIN_SHARE = 1e-4;

function shares(counts: ArrayLike<number>, floor: number): Float64Array {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  const out = new Float64Array(counts.length);
  for (let i = 0; i < counts.length; i++) {
    const p = total > 0 ? counts[i] / total : 0;
    out[i] = p === 0 ? floor : p;
  }
  return out;
}

/** Population stability index Σ (c − r)·ln(c / r) over bin shares; 0 when the distributions agree. */
export function psi(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  if (reference.length !== current.length) throw new Error(`psi: ${reference.length} reference bins but ${current.length} current bins`);
  const r = shares(reference, EMPTY_BIN_SHARE);
  const c = shares(current, EMPTY_BIN_SHARE);
  let s = 0;
  for (let i = 0; i < r.length; i++) s += (c[i] - r[i]) * Math.log(c[i] / r[i]);
  return s;
}

/** Jensen–Shannon distance (the square root of the divergence), base 2: 0 for equal, 1 for disjoint distributions. */
export function jensenShannonDistance(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  if (reference.length !== current.length) throw new Error(`jensenShannon: ${reference.length} reference bins but ${current.length} current bins`);
  const p = shares(reference, 0);
  const q = shares(current, 0);
  let d = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i] + q[i]) / 2;
    if (p[i] > 0) d += p[i] * Math.log(p[i] / m);
    if (q[i] > 0) d += q[i] * Math.log(q[i] / m);
  }
  return Math.sqrt(Math.max(0, d / 2 / Math.LN2));
}

/**
 * Pearson's chi² test of the current counts against the reference shares (scipy.stats.chisquare with expected
 * frequencies scaled to the current total). Bins the reference never saw are left out — they cannot be tested
 * this way and show up as unseen categories in data quality instead.
 */
export function chiSquareTest(reference: ArrayLike<number>, current: ArrayLike<number>): { statistic: number; dof: number; pValue: number } {
  if (reference.length !== current.length) throw new Error(`chiSquare: ${reference.length} reference bins but ${current.length} current bins`);
  let refTotal = 0;
  let curTotal = 0;
  for (let i = 0; i < reference.length; i++) {
    if (reference[i] > 0) {
      refTotal += reference[i];
      curTotal += current[i];
    }
  }
  let stat = 0;
  let k = 0;
  for (let i = 0; i < reference.length; i++) {
    if (reference[i] <= 0) continue;
    const e = (curTotal * reference[i]) / refTotal;
    stat += (current[i] - e) ** 2 / e;
    k++;
  }
  const dof = Math.max(0, k - 1);
  return { statistic: stat, dof, pValue: dof === 0 ? 1 : chiSquareSurvival(stat, dof) };
}

/**
 * Two-sample Kolmogorov–Smirnov on binned data: the largest gap between the two cumulative shares at the bin edges.
 * With the reference kept as decile bins this is the KS statistic evaluated at those edges (a lower bound on the
 * exact one); the p-value is the asymptotic Kolmogorov distribution at √(n·m/(n+m))·D.
 */
export function ksFromCounts(reference: ArrayLike<number>, current: ArrayLike<number>): { statistic: number; pValue: number } {
  if (reference.length !== current.length) throw new Error(`ks: ${reference.length} reference bins but ${current.length} current bins`);
  let n = 0;
  let m = 0;
  for (let i = 0; i < reference.length; i++) {
    n += reference[i];
    m += current[i];
  }
  if (n === 0 || m === 0) return { statistic: 0, pValue: 1 };
  let a = 0;
  let b = 0;
  let d = 0;
  for (let i = 0; i < reference.length; i++) {
    a += reference[i];
    b += current[i];
    d = Math.max(d, Math.abs(a / n - b / m));
  }
  return { statistic: d, pValue: kolmogorovSurvival(Math.sqrt((n * m) / (n + m)) * d) };
}

/** Exact two-sample KS statistic on raw samples (scipy.stats.ks_2samp's statistic), with the asymptotic p-value. */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>): { statistic: number; pValue: number } {
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  const n = x.length;
  const m = y.length;
  if (n === 0 || m === 0) return { statistic: 0, pValue: 1 };
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const v = Math.min(x[i], y[j]);
    while (i < n && x[i] <= v) i++;
    while (j < m && y[j] <= v) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  return { statistic: d, pValue: kolmogorovSurvival(Math.sqrt((n * m) / (n + m)) * d) };
}

/** P(K > x) for the Kolmogorov distribution (scipy.stats.kstwobign.sf). */
export function kolmogorovSurvival(x: number): number {
  if (x <= 0) return 1;
  if (x < 0.2) return 1; // 1 − 2e-24 and closer: the series converges slowly here and the answer is 1 in doubles
  let s = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * x * x);
    s += (k % 2 === 1 ? 1 : -1) * term;
    if (term < 1e-17) break;
  }
  return Math.min(1, Math.max(0, 2 * s));
}

/** P(X > x) for a chi² variable with `dof` degrees of freedom: the regularized upper incomplete gamma Q(dof/2, x/2). */
export function chiSquareSurvival(x: number, dof: number): number {
  if (x <= 0) return 1;
  return upperRegularizedGamma(dof / 2, x / 2);
}

function logGamma(z: number): number {
  // Lanczos approximation (g = 7, n = 9), accurate to ~1e-15 for z > 0.
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
    9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  const zz = z - 1;
  let a = c[0];
  const t = zz + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (zz + i);
  return 0.5 * Math.log(2 * Math.PI) + (zz + 0.5) * Math.log(t) - t + Math.log(a);
}

function upperRegularizedGamma(a: number, x: number): number {
  const lnPre = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    // Series for the lower function P; Q = 1 − P.
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.max(0, 1 - sum * Math.exp(lnPre));
  }
  // Continued fraction for Q (modified Lentz).
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.min(1, Math.exp(lnPre) * h);
}

/** Decile edges of a sample (the same rule `referenceHistograms` uses), for binning a distribution kept as a sample. */
export function decileEdges(sample: ArrayLike<number>): number[] {
  const v = Float64Array.from(sample).sort();
  return [...new Set(Array.from({ length: 9 }, (_, j) => v[Math.floor(((j + 1) * v.length) / 10)]).filter((e) => e !== undefined))];
}

/** Counts of `values` in the numeric bins given by `edges` (NaN skipped). */
export function binCounts(edges: ArrayLike<number>, values: ArrayLike<number>): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) counts[numericBin(edges, values[i])]++;
  return counts;
}
