import type { ModelManifest, ModelSummary, AccuracyMetrics } from '../models/model-types.js';
import type { Valuation, ScoreResult } from '../valuation/valuation-types.js';

/** Long work reports progress through callbacks and stops on an AbortSignal (then throws CANCELLED). */
export interface JobControl<P> {
  onProgress?: (p: P) => void;
  signal?: AbortSignal;
}

export interface TrainRequest {
  /** Dataset id, id prefix or name. */
  dataset: string;
  /** Number of random folds (default 5), or 'time' for time-ordered folds. */
  folds?: number;
  foldScheme?: 'random' | 'time';
  /** CSV `row,fold` (row = 0-based data row of the source file) to reproduce someone else's folds. */
  foldsFile?: string;
  /** Learner parameters by name (learning_rate, max_leaves, n_rounds, …); unknown names are refused. */
  params?: Record<string, number | string>;
  /** Continue boosting from this model (id or 'champion'). */
  warmStart?: string;
  name?: string;
  seed?: number;
  threads?: number;
}

export interface TrainProgress {
  phase: 'loading' | 'cross-validation' | 'final-model' | 'export';
  /** Fold this update is about (0-based) during cross-validation; folds run in parallel, so updates interleave. */
  fold?: number;
  folds?: number;
  round?: number;
  nRounds?: number;
  trainLoss?: number;
  validLoss?: number;
}

export interface TrainResult {
  modelId: string;
  name: string;
  status: 'challenger';
  cv: AccuracyMetrics & { folds: AccuracyMetrics[]; scheme: string };
  intervals: { level: number; empiricalCoverage: number }[];
  trainSeconds: number;
  nTrees: number;
  params: Record<string, number | string | boolean>;
}

export interface ModelServiceApi {
  list(): ModelSummary[];
  /** Id, unique id prefix, or 'champion'. */
  manifest(ref: string): ModelManifest;
  promote(ref: string): ModelSummary;
  /** Makes the previous champion champion again. */
  rollback(): ModelSummary;
  archive(ref: string): ModelSummary;
  exportTo(ref: string, dir: string): { onnx: string; manifest: string };
  importFrom(onnxFile: string, manifestFile: string): ModelSummary;
}

export interface TrainingServiceApi {
  train(req: TrainRequest, job?: JobControl<TrainProgress>): Promise<TrainResult>;
  evaluate(model: string, dataset: string): Promise<AccuracyMetrics>;
}

export interface ScoreOptions {
  /** For CSV sources: schema column → the file's own column name, for files that name columns differently. */
  columnMap?: Record<string, string>;
}

export interface ValuationServiceApi {
  /** One property, given with the dataset's own column names and formats. */
  value(model: string, input: Record<string, unknown>, options?: { valuationDate?: string }): Promise<Valuation>;
  score(model: string, source: string, out: string, job?: JobControl<{ rows: number; total: number }>, options?: ScoreOptions): Promise<ScoreResult>;
}
