import type { SerializedError } from '../common/errors.js';
import type { TreeEnsemble } from '../learner/tree-model.js';
import type { TrainingData } from '../learner/training-data.js';
import type { GbdtParams } from '../learner/gbdt-params.js';
import type { TrainingProgress } from '../learner/gbdt-trainer.js';

/** What a fold thread gets: the whole matrix in shared memory (X and y on SharedArrayBuffers) and its row split. */
export interface FoldTask extends Omit<TrainingData, 'weights'> {
  fold: number;
  trainRows: Int32Array;
  testRows: Int32Array;
  params: GbdtParams;
  initModel?: TreeEnsemble;
}

export type FoldMessage =
  | { type: 'progress'; progress: TrainingProgress }
  | { type: 'done'; predictions: Float64Array }
  | { type: 'failed'; error: SerializedError };
