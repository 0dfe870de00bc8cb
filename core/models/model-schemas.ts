import { z } from 'zod';
import { datasetConfigSchema } from '../config/dataset-config.schema.js';
import { featureTransformSchema } from '../features/feature-transform-schema.js';
import { marketIndexSchema } from '../market/market-schemas.js';
import { treeEnsembleSchema } from '../learner/model/tree-ensemble-schema.js';

/** Accuracy of a model on sales it did not see (pooled out-of-fold, or a held-out dataset). */
export const accuracyMetricsSchema = z.object({
  n: z.number(),
  /** RMSE of the natural log of price: the headline figure, comparable across price levels. */
  rmseLog: z.number(),
  rmse: z.number(),
  mae: z.number(),
  /** Mean absolute percentage error, as a fraction (0.115 = 11.5 %). */
  mape: z.number(),
  /** Median absolute percentage error, as a fraction. */
  mdape: z.number(),
  within5: z.number(),
  within10: z.number(),
  within20: z.number(),
  /** R² on prices (dollars), not logs. */
  r2: z.number(),
  /** Appraisal ratio statistics (IAAO): ratio = estimate / sale price. */
  medianRatio: z.number(),
  /** Coefficient of dispersion around the median ratio, in percent (IAAO: ≤ 15 for residential). */
  cod: z.number(),
  /** Price-related differential (IAAO: 0.98–1.03). */
  prd: z.number(),
});
export type AccuracyMetrics = z.output<typeof accuracyMetricsSchema>;

/** Cross-validated accuracy: the pooled figures, each fold's, and how the folds were made. */
export const cvMetricsSchema = accuracyMetricsSchema.extend({ folds: z.array(accuracyMetricsSchema), scheme: z.string() });
export type CvMetrics = z.output<typeof cvMetricsSchema>;

export const intervalCalibrationSchema = z.object({
  /** Nominal coverage, e.g. 0.8. */
  level: z.number(),
  /** Half-width in transformed-target space (log price) for a row of average difficulty. */
  quantile: z.number(),
  /** Coverage measured on held-out (out-of-fold) data. */
  empiricalCoverage: z.number(),
});
export type IntervalCalibration = z.output<typeof intervalCalibrationSchema>;

/** An AVM confidence tier, from the valuation's forecast standard deviation (core/models/confidence-tier.ts). */
export const confidenceTierSchema = z.enum(['High', 'Medium', 'Low']);
export type ConfidenceTier = z.output<typeof confidenceTierSchema>;

/** Coverage of the per-property intervals on one group of held-out sales (all of them, a tier, a price decile). */
export const coverageCellSchema = z.object({
  group: z.string(),
  n: z.number(),
  coverage: z.array(z.object({ level: z.number(), coverage: z.number() })),
});
export type CoverageCell = z.output<typeof coverageCellSchema>;

/**
 * Per-property intervals (core/training/normalised-conformal.ts): a difficulty model σ̂(x) predicting |residual|,
 * normalised conformal quantiles of |residual|/σ̂ per level and confidence tier, the FSD scale, and the coverage
 * measured on out-of-fold sales that neither trained σ̂ nor set the quantiles.
 */
export const propertyIntervalsSchema = z.object({
  format: z.literal('appraise-nconf/1'),
  difficulty: treeEnsembleSchema,
  /** Smallest σ̂ used (transformed space): keeps the ratio |r|/σ̂ finite where the trees predict ~0. */
  floor: z.number(),
  /** FSD = fsdScale · σ̂(x) · J(x), J the relative slope of the inverse target transform (1 for a log target). */
  fsdScale: z.number(),
  /** Upper FSD bounds (fractions) of the High and Medium tiers; above `medium` is Low. */
  tiers: z.object({ high: z.number(), medium: z.number() }),
  levels: z.array(z.object({ level: z.number(), quantile: z.number(), byTier: z.record(z.string(), z.number()) })),
  rows: z.object({ difficulty: z.number(), calibration: z.number(), evaluation: z.number() }),
  coverage: z.object({ overall: coverageCellSchema, byTier: z.array(coverageCellSchema), byPriceDecile: z.array(coverageCellSchema) }),
});
export type PropertyIntervals = z.output<typeof propertyIntervalsSchema>;

export const modelStatusSchema = z.enum(['champion', 'challenger', 'archived']);
export type ModelStatus = z.output<typeof modelStatusSchema>;
export const trainingModeSchema = z.enum(['full', 'warm-start', 'imported']);
export type TrainingMode = z.output<typeof trainingModeSchema>;

export const modelParamsSchema = z.record(z.string(), z.union([z.number(), z.string(), z.boolean()]));

/** The hyper-parameter search that chose a model's parameters (core/training/hyperparameter-search.ts). */
export const tuningSummarySchema = z.object({
  mode: z.enum(['fast', 'thorough']),
  candidates: z.number(),
  /** Successive-halving rungs: inner training rows, candidates fitted, inner-holdout RMSE per candidate (null: not fitted). */
  rungs: z.array(z.object({ rows: z.number(), candidates: z.number(), scores: z.array(z.number().nullable()) })),
  chosen: z.record(z.string(), z.number()),
  innerScore: z.number(),
  bestIteration: z.number(),
  innerTrainRows: z.number(),
  /** Inner folds of the last rung: 5 (inner cross-validation) on small tables, 1 (the single holdout) above; absent in older models. */
  innerFolds: z.number().optional(),
  /** Models averaged into the final one (the refit and the inner folds' models); absent: the refit alone. */
  bagged: z.number().optional(),
  /** Trees the final model was refitted with on all rows (bestIteration scaled for the larger row count). */
  refitRounds: z.number(),
  seconds: z.number(),
});
export type TuningSummary = z.output<typeof tuningSummarySchema>;

/** Where a model's intervals and accuracy figures were measured when they come from a local calibration. */
export const modelCalibrationSchema = z.object({
  datasetId: z.string(),
  datasetName: z.string(),
  n: z.number(),
  at: z.string(),
});
export type ModelCalibration = z.output<typeof modelCalibrationSchema>;

/** See core/models/model-envelope.ts: sha256 of each of a model's files and one digest over that list. */
export const modelEnvelopeSchema = z
  .object({
    format: z.literal('appraise-envelope/1'),
    files: z.object({ 'model.onnx': z.string().regex(/^[0-9a-f]{64}$/), 'ensemble.json': z.string().regex(/^[0-9a-f]{64}$/).nullable(), 'manifest.json': z.string().regex(/^[0-9a-f]{64}$/) }).strict(),
    digest: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();
export type ModelEnvelope = z.output<typeof modelEnvelopeSchema>;

/**
 * A model's label-free accuracy estimator: trees predicting its absolute and squared log error from the features,
 * fitted on out-of-fold residuals, and the held-out figures they are scaled against.
 */
export const lossEstimatorSchema = z.object({
  format: z.literal('appraise-dle/1'),
  absError: treeEnsembleSchema,
  squaredError: treeEnsembleSchema,
  reference: z.object({
    /** Out-of-fold sales the estimator learned from. */
    n: z.number(),
    /** Realised held-out RMSE of log price, mean |log error| and MdAPE (fraction) on those sales. */
    rmseLog: z.number(),
    meanAbsLog: z.number(),
    mdape: z.number(),
    /** Standard deviations of the realised per-sale squared and absolute log errors (for the estimate's band). */
    sdSquared: z.number(),
    sdAbs: z.number(),
    /** Mean of the estimators' own predictions on those sales: the level current predictions are compared with. */
    meanPredictedSquared: z.number(),
    meanPredictedAbs: z.number(),
  }),
});
export type LossEstimator = z.output<typeof lossEstimatorSchema>;

/** The manifest that travels with every model's ONNX file. */
export const modelManifestSchema = z.object({
  format: z.literal('appraise-model/1'),
  /** sha256 of the ONNX bytes. */
  modelId: z.string(),
  name: z.string(),
  createdAt: z.string(),
  trainerVersion: z.string(),
  mode: trainingModeSchema,
  parentModelId: z.string().nullable(),
  trainingDatasetId: z.string().nullable(),
  trainingDatasetName: z.string().nullable(),
  featureTransform: featureTransformSchema,
  /** The dataset schema inputs are validated against (formats, ranges, required fields). */
  datasetConfig: datasetConfigSchema,
  params: modelParamsSchema,
  nTrees: z.number(),
  cv: cvMetricsSchema.nullable(),
  intervals: z.array(intervalCalibrationSchema),
  onnx: z.object({
    file: z.string(),
    sha256: z.string(),
    opset: z.number(),
    operator: z.string(),
    inputName: z.string(),
    outputName: z.string(),
    rawOutputName: z.string().nullable(),
    /**
     * For models with a single output (imported from other tools): whether that output is the price itself
     * ('target') or the transformed target the model learned, e.g. log price ('transformed'). Appraise's own
     * exports have both `raw` and `value` outputs and leave this unset.
     */
    outputSpace: z.enum(['target', 'transformed']).optional(),
  }),
  /**
   * A seeded sample (at most 1,000) of out-of-fold sale prices and the model's estimates for them, for residual
   * plots: how far off the model was, on sales it had not seen, across the price range. Absent for imports.
   */
  residualSample: z.object({ actual: z.array(z.number()), estimate: z.array(z.number()) }).optional(),
  /** First and last sale date in the training data (ISO), when the schema has a sale date. */
  saleDateRange: z.object({ first: z.string(), last: z.string() }).nullable().optional(),
  /**
   * Local calibration (`appraise models calibrate`): the sales whose residuals set `intervals` and `cv`. Imported
   * models carry no figures of their own until this is set; valuations say so.
   */
  calibration: modelCalibrationSchema.optional(),
  /**
   * Smallest and largest value of each numeric feature on the final model's training rows: a valuation with an
   * input outside them gets a wider band and says why. Absent for imports and models trained before it existed.
   */
  featureRanges: z.array(z.object({ feature: z.string(), min: z.number(), max: z.number() })).optional(),
  /**
   * The integrity envelope over the exported files; written by `exportTo`, checked and dropped by `importFrom`
   * (inside a workspace the registry row's artifact hashes play its part). Absent in manifests from before it.
   */
  integrity: modelEnvelopeSchema.optional(),
  /**
   * Direct loss estimation (core/training/loss-estimator.ts): small tree models that learned this model's
   * held-out error from the features, so monitoring can estimate accuracy before sale prices arrive. Absent for
   * imports and models trained before it existed; monitoring then says the estimate is not available.
   */
  lossEstimator: lossEstimatorSchema.optional(),
  /**
   * Per-property intervals, FSD and confidence tiers. Absent for imports and models trained before it existed:
   * those value with the global band of `intervals`. Ignored once `calibration` is set (the band is then local).
   */
  propertyIntervals: propertyIntervalsSchema.optional(),
  /**
   * The local price index (core/market) the model's prices were deflated by: the trees learned prices at the
   * index's reference period, and valuations re-inflate to their own date (nowcast beyond the last sale). Absent
   * for models trained without one (no sale date, too few periods, `market.enabled: false`) and for imports.
   */
  market: marketIndexSchema.optional(),
  /**
   * Out-of-time accuracy: expanding-window (time-ordered) cross-validation, later sales predicted from earlier
   * ones, per block in `folds`. The headline figure for a model that values properties after its last sale.
   */
  outOfTime: cvMetricsSchema.optional(),
  /** How the parameters were chosen; absent when they were not searched (tuning off, warm start, older models). */
  tuning: tuningSummarySchema.optional(),
  /** Reference histograms of each feature on the training data, for drift monitoring. */
  reference: z.array(z.object({ feature: z.string(), edges: z.array(z.number()), counts: z.array(z.number()), missing: z.number() })),
});
export type ModelManifest = z.output<typeof modelManifestSchema>;

export const modelSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  status: modelStatusSchema,
  mode: trainingModeSchema,
  createdAt: z.string(),
  datasetId: z.string().nullable(),
  datasetName: z.string().nullable(),
  parentModelId: z.string().nullable(),
  nTrees: z.number(),
  cv: accuracyMetricsSchema.nullable(),
});
export type ModelSummary = z.output<typeof modelSummarySchema>;

/** One change of champion: a promotion, or a rollback (which undid the latest promotion not yet undone). */
export const championChangeSchema = z.object({
  seq: z.number(),
  action: z.enum(['promote', 'rollback']),
  modelId: z.string(),
  modelName: z.string().nullable(),
  /** The champion it replaced. */
  previousId: z.string().nullable(),
  previousName: z.string().nullable(),
  at: z.string(),
  reason: z.string(),
  /** The user who made it (the OS account of the app's process); null for changes recorded before it was kept. */
  who: z.string().nullable(),
});
export type ChampionChange = z.output<typeof championChangeSchema>;

/** The champion history and what a rollback would restore now. */
export const championHistorySchema = z.object({ changes: z.array(championChangeSchema), rollbackTo: modelSummarySchema.nullable() });
export type ChampionHistory = z.output<typeof championHistorySchema>;
