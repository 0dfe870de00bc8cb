import type { JobProgress } from '../../../core/contract/contract.js';

export interface LossPoint {
  /** Boosting round. */
  x: number;
  train?: number;
  valid?: number;
}

/** The loss curve shown for a training, and which fit it belongs to. */
export interface LossCurve {
  /** The cross-validation fold, or FINAL_FIT for the final model; -1 before any fit reported. */
  fit: number;
  points: LossPoint[];
}

export const FINAL_FIT = 1000;

/**
 * The curve of the latest fit to start (the highest fold so far, then the final model) from a training's
 * progress reports, oldest first; one point per round that reported a loss. Folds are fitted in parallel, so
 * reports of two folds interleave: each fit keeps its own points rather than starting over on every switch.
 */
export function lossCurve(log: readonly JobProgress<'train'>[]): LossCurve {
  const fits = new Map<number, LossPoint[]>();
  let shown = -1;
  for (const p of log) {
    const fit = p.phase === 'cross-validation' ? (p.fold ?? 0) : p.phase === 'final-model' ? FINAL_FIT : null;
    if (fit === null) continue;
    let points = fits.get(fit);
    if (!points) fits.set(fit, (points = []));
    shown = Math.max(shown, fit);
    if (p.round === undefined || (p.trainLoss === undefined && p.validLoss === undefined)) continue;
    const last = points[points.length - 1];
    if (!last || p.round > last.x) points.push({ x: p.round, train: p.trainLoss, valid: p.validLoss });
  }
  return { fit: shown, points: fits.get(shown) ?? [] };
}
