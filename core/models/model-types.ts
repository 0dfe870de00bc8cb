import type { FeatureTransform } from '../features/feature-transform.js';
import type { DatasetConfig } from '../config/dataset-config.schema.js';

/** Accuracy of a model on sales it did not see (pooled out-of-fold, or a held-out dataset). */
export interface AccuracyMetrics {
  n: number;
  /** RMSE of the natural log of price: the headline figure, comparable across price levels. */
  rmseLog: number;
  rmse: number;
  mae: number;
  /** Mean absolute percentage error, as a fraction (0.115 = 11.5 %). */
  mape: number;
  /** Median absolute percentage error, as a fraction. */
  mdape: number;
  within5: number;
  within10: number;
  within20: number;
  /** R² on prices (dollars), not logs. */
  r2: number;
  /** Appraisal ratio statistics (IAAO): ratio = estimate / sale price. */
  medianRatio: number;
  /** Coefficient of dispersion around the median ratio, in percent (IAAO: ≤ 15 for residential). */
  cod: number;
  /** Price-related differential (IAAO: 0.98–1.03). */
  prd: number;
}

export interface IntervalCalibration {
  /** Nominal coverage, e.g. 0.8. */
  level: number;
  /** Half-width in transformed-target space (log price) for a row of average difficulty. */
  quantile: number;
  /** Coverage measured on held-out (out-of-fold) data. */
  empiricalCoverage: number;
}

export type ModelStatus = 'champion' | 'challenger' | 'archived';
export type TrainingMode = 'full' | 'warm-start' | 'imported';

/** The manifest that travels with every model's ONNX file. */
export interface ModelManifest {
  format: 'appraise-model/1';
  /** sha256 of the ONNX bytes. */
  modelId: string;
  name: string;
  createdAt: string;
  trainerVersion: string;
  mode: TrainingMode;
  parentModelId: string | null;
  trainingDatasetId: string | null;
  trainingDatasetName: string | null;
  featureTransform: FeatureTransform;
  /** The dataset schema inputs are validated against (formats, ranges, required fields). */
  datasetConfig: DatasetConfig;
  params: Record<string, number | string | boolean>;
  nTrees: number;
  cv: (AccuracyMetrics & { folds: AccuracyMetrics[]; scheme: string }) | null;
  intervals: IntervalCalibration[];
  onnx: {
    file: string;
    sha256: string;
    opset: number;
    operator: string;
    inputName: string;
    outputName: string;
    rawOutputName: string | null;
    /**
     * For models with a single output (imported from other tools): whether that output is the price itself
     * ('target') or the transformed target the model learned, e.g. log price ('transformed'). Appraise's own
     * exports have both `raw` and `value` outputs and leave this unset.
     */
    outputSpace?: 'target' | 'transformed';
  };
  /**
   * A seeded sample (at most 1,000) of out-of-fold sale prices and the model's estimates for them, for residual
   * plots: how far off the model was, on sales it had not seen, across the price range.
   */
  residualSample?: { actual: number[]; estimate: number[] };
  /** First and last sale date in the training data (ISO), when the schema has a sale date. */
  saleDateRange?: { first: string; last: string } | null;
  /** Reference histograms of each feature on the training data, for drift monitoring. */
  reference: { feature: string; edges: number[]; counts: number[]; missing: number }[];
}

export interface ModelSummary {
  id: string;
  name: string;
  status: ModelStatus;
  mode: TrainingMode;
  createdAt: string;
  datasetId: string | null;
  datasetName: string | null;
  parentModelId: string | null;
  nTrees: number;
  cv: AccuracyMetrics | null;
}
