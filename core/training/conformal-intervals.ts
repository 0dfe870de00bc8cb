import type { IntervalCalibration } from '../models/model-schemas.js';

/**
 * Split-conformal prediction intervals from out-of-fold residuals in transformed space (log price): the interval
 * is estimate ×/÷ exp(q), q the finite-sample-corrected quantile of |residual|. Coverage is checked honestly by
 * cross-conformal evaluation: each fold's coverage uses a q computed from the other folds only.
 */
export function calibrateIntervals(residuals: Float64Array, fold: Int32Array, levels: number[] = [0.8, 0.95]): IntervalCalibration[] {
  const abs = Float64Array.from(residuals, Math.abs);
  const folds = [...new Set(fold)].filter((f) => f >= 0);
  return levels.map((level) => {
    const quantile = conformalQuantile(abs, level);
    let covered = 0;
    let total = 0;
    for (const k of folds) {
      const others = abs.filter((_, i) => fold[i] !== k && fold[i] >= 0);
      if (others.length === 0) continue;
      const qk = conformalQuantile(others, level);
      for (let i = 0; i < abs.length; i++) {
        if (fold[i] !== k) continue;
        total++;
        if (abs[i] <= qk) covered++;
      }
    }
    return { level, quantile, empiricalCoverage: total > 0 ? covered / total : NaN };
  });
}

/** The ⌈(n+1)·level⌉-th smallest value: the split-conformal quantile with its finite-sample guarantee. */
export function conformalQuantile(absResiduals: Float64Array, level: number): number {
  const sorted = Float64Array.from(absResiduals).sort();
  const n = sorted.length;
  const k = Math.min(n, Math.ceil((n + 1) * level)) - 1;
  return sorted[Math.max(0, k)];
}

/** Interval in target space around an estimate made in transformed space. */
export function intervalAround(rawEstimate: number, q: number, inverse: (t: number) => number): { low: number; high: number } {
  return { low: inverse(rawEstimate - q), high: inverse(rawEstimate + q) };
}
