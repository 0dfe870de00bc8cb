import type { SerializedError } from '../common/errors.js';
import type { FeatureKind, TreeEnsemble } from '../learner/tree-model.js';
import type { GbdtParams } from '../learner/gbdt-params.js';
import type { TrainingProgress } from '../learner/gbdt-trainer.js';

/** What a fold thread gets: the whole matrix in shared memory (no copy per fold) and its row split. */
export interface FoldTask {
  fold: number;
  nRows: number;
  nFeatures: number;
  /** Backed by a SharedArrayBuffer. */
  X: Float32Array;
  y: Float64Array;
  featureNames: string[];
  featureKinds: FeatureKind[];
  categoryCounts: number[];
  trainRows: Int32Array;
  testRows: Int32Array;
  params: GbdtParams;
  initModel?: TreeEnsemble;
}

export type FoldMessage =
  | { type: 'progress'; progress: TrainingProgress }
  | { type: 'done'; predictions: Float64Array }
  | { type: 'failed'; error: SerializedError };
