import { trainGbdt } from '../learner/boosting/gbdt-trainer.js';
import { selectRows, type TrainingData } from '../learner/data/training-data.js';
import { FastTreePredictor } from '../learner/model/fast-predictor.js';
import type { LossEstimator } from '../models/model-schemas.js';
import { median } from './accuracy-metrics.js';

/**
 * Small on purpose: the estimator learns where the model is worse (which areas, sizes, ages), a smooth and
 * noisy target, so shallow trees with large leaves generalise better than the price model's settings; and it
 * travels in the manifest, so it must stay small: at most 2 × 80 trees of 8 leaves. (A first version with 300
 * rounds at 0.05 kept 470 trees on King County: 366 KB of JSON, 90 % of the manifest.) Early stopping on a 10 %
 * holdout decides how many rounds are kept.
 */
export const ESTIMATOR_PARAMS = {
  nRounds: 80,
  learningRate: 0.1,
  maxLeaves: 8,
  minSamplesLeaf: 50,
  colsampleByTree: 1,
  earlyStoppingRounds: 15,
} as const;

/**
 * Direct loss estimation (NannyML's DLE): two tree models, fitted on the out-of-fold rows, that predict the
 * model's absolute and squared error (in its target space, log price for a log target) from the same features.
 * Applied to logged inputs, whose prices are not known yet, their mean says how accurate the model is likely to
 * be on them: it rises when valuations move toward kinds of property where the model was worse on held-out sales.
 * The out-of-fold residuals are the model's honest errors (each row predicted by a model that did not see it).
 */
export async function fitLossEstimator(
  data: TrainingData,
  scored: Int32Array,
  oof: Float64Array,
  inverse: (t: number) => number,
  options: { seed: number; threads?: number; signal?: AbortSignal },
): Promise<LossEstimator> {
  const rows = selectRows(data, scored);
  const n = scored.length;
  const err = Float64Array.from(scored, (r) => data.y[r] - oof[r]);
  const abs = err.map(Math.abs);
  const sq = err.map((e) => e * e);
  const fit = async (y: Float64Array) =>
    (
      await trainGbdt(
        { ...rows, y, weights: undefined },
        { ...ESTIMATOR_PARAMS, seed: options.seed + 11 },
        { threads: options.threads ?? 1, signal: options.signal },
      )
    ).model;
  const absError = await fit(abs);
  const squaredError = await fit(sq);
  const meanOf = (xs: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += xs[i];
    return s / xs.length;
  };
  const sdOf = (xs: ArrayLike<number>) => {
    const m = meanOf(xs);
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += (xs[i] - m) ** 2;
    return Math.sqrt(s / Math.max(1, xs.length - 1));
  };
  const clamp = (p: Float64Array) => p.map((x) => Math.max(0, x));
  const predAbs = clamp(new FastTreePredictor(absError).predict(rows.X, n));
  const predSq = clamp(new FastTreePredictor(squaredError).predict(rows.X, n));
  // Percentage errors over sales with a positive price only, as in accuracyMetrics.
  const apes = Float64Array.from(
    Array.from(scored, (r) => [inverse(data.y[r]), inverse(oof[r])]).filter(([actual]) => actual > 0),
    ([actual, estimate]) => Math.abs(estimate - actual) / actual,
  ).sort();
  return {
    format: 'appraise-dle/1',
    absError,
    squaredError,
    reference: {
      n,
      rmseLog: Math.sqrt(meanOf(sq)),
      meanAbsLog: meanOf(abs),
      mdape: apes.length ? median(apes) : 0,
      sdSquared: sdOf(sq),
      sdAbs: sdOf(abs),
      meanPredictedSquared: meanOf(predSq),
      meanPredictedAbs: meanOf(predAbs),
    },
  };
}
