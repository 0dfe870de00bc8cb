import type { AccuracyMetrics } from '../models/model-schemas.js';

/**
 * Accuracy of estimates against actual sale prices, in the terms appraisers and ML people both use.
 * `actual` and `estimate` are in currency (target space); `actualT`/`estimateT` in the transformed space the
 * model learns (log price), for RMSE of log price.
 */
export function accuracyMetrics(
  actual: ArrayLike<number>,
  estimate: ArrayLike<number>,
  actualT: ArrayLike<number>,
  estimateT: ArrayLike<number>,
): AccuracyMetrics {
  const n = actual.length;
  if (n === 0) throw new Error('accuracyMetrics needs at least one sale');
  let se = 0;
  let seT = 0;
  let ae = 0;
  let ape = 0;
  let w5 = 0;
  let w10 = 0;
  let w20 = 0;
  let sumA = 0;
  let sumE = 0;
  let sumRatio = 0;
  const apes = new Float64Array(n);
  const ratios = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = actual[i];
    const e = estimate[i];
    const d = e - a;
    se += d * d;
    const dt = estimateT[i] - actualT[i];
    seT += dt * dt;
    ae += Math.abs(d);
    const p = Math.abs(d) / a;
    apes[i] = p;
    ape += p;
    if (p <= 0.05) w5++;
    if (p <= 0.1) w10++;
    if (p <= 0.2) w20++;
    sumA += a;
    sumE += e;
    const ratio = e / a;
    ratios[i] = ratio;
    sumRatio += ratio;
  }
  const meanA = sumA / n;
  let ssTot = 0;
  for (let i = 0; i < n; i++) ssTot += (actual[i] - meanA) ** 2;
  apes.sort();
  ratios.sort();
  const medianRatio = median(ratios);
  let absDev = 0;
  for (let i = 0; i < n; i++) absDev += Math.abs(ratios[i] - medianRatio);
  return {
    n,
    rmseLog: Math.sqrt(seT / n),
    rmse: Math.sqrt(se / n),
    mae: ae / n,
    mape: ape / n,
    mdape: median(apes),
    within5: w5 / n,
    within10: w10 / n,
    within20: w20 / n,
    r2: ssTot > 0 ? 1 - se / ssTot : 0,
    medianRatio,
    cod: (100 * (absDev / n)) / medianRatio,
    prd: sumRatio / n / (sumE / sumA),
  };
}

/** Median of an ascending array. */
export function median(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  const h = n >> 1;
  return n % 2 === 1 ? sorted[h] : (sorted[h - 1] + sorted[h]) / 2;
}
