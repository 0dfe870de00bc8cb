import { invalidInput } from '../common/errors.js';
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
  // Percentage errors and sales ratios divide by the price: as in an IAAO ratio study they are taken over sales
  // with a positive price only. A config may allow a price of 0 (`min: 0` with `transform: none` or `log1p`);
  // those sales still count in the RMSE, MAE and R².
  let nPositive = 0;
  for (let i = 0; i < n; i++) if (actual[i] > 0) nPositive++;
  if (nPositive === 0) throw invalidInput('no sale has a price above 0, so percentage errors and sales ratios cannot be computed');
  let se = 0;
  let seT = 0;
  let ae = 0;
  let ape = 0;
  let w5 = 0;
  let w10 = 0;
  let w20 = 0;
  let sumA = 0;
  let sumE = 0;
  const apes = new Float64Array(nPositive);
  const ratios = new Float64Array(nPositive);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const a = actual[i];
    const e = estimate[i];
    const d = e - a;
    se += d * d;
    const dt = estimateT[i] - actualT[i];
    seT += dt * dt;
    ae += Math.abs(d);
    if (!(a > 0)) continue;
    const p = Math.abs(d) / a;
    apes[k] = p;
    ape += p;
    if (p <= 0.05) w5++;
    if (p <= 0.1) w10++;
    if (p <= 0.2) w20++;
    sumA += a;
    sumE += e;
    ratios[k++] = e / a;
  }
  let sumAll = 0;
  for (let i = 0; i < n; i++) sumAll += actual[i];
  const meanA = sumAll / n;
  let ssTot = 0;
  for (let i = 0; i < n; i++) ssTot += (actual[i] - meanA) ** 2;
  apes.sort();
  const { medianRatio, cod, prd } = ratioStatistics(ratios, sumE, sumA);
  return {
    n,
    rmseLog: Math.sqrt(seT / n),
    rmse: Math.sqrt(se / n),
    mae: ae / n,
    mape: ape / nPositive,
    mdape: median(apes),
    within5: w5 / nPositive,
    within10: w10 / nPositive,
    within20: w20 / nPositive,
    r2: ssTot > 0 ? 1 - se / ssTot : 0,
    medianRatio,
    cod,
    prd,
  };
}

/**
 * The IAAO ratio-study core, shared by training's CV metrics and monitoring's ratio studies: median ratio, COD
 * (mean absolute deviation about the median ratio, in percent of it) and PRD (mean ratio over the ratio of sums).
 * `ratios` (estimate / price, any order) is sorted in place.
 */
export function ratioStatistics(ratios: Float64Array, sumEstimate: number, sumPrice: number): { medianRatio: number; cod: number; prd: number } {
  const n = ratios.length;
  ratios.sort();
  const medianRatio = median(ratios);
  let absDev = 0;
  let sumRatio = 0;
  for (let i = 0; i < n; i++) {
    absDev += Math.abs(ratios[i] - medianRatio);
    sumRatio += ratios[i];
  }
  return { medianRatio, cod: (100 * (absDev / n)) / medianRatio, prd: sumRatio / n / (sumEstimate / sumPrice) };
}

/** Median of an ascending array. */
export function median(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  const h = n >> 1;
  return n % 2 === 1 ? sorted[h] : (sorted[h - 1] + sorted[h]) / 2;
}
