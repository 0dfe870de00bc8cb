import type { TreeEnsemble } from '../learner/model/tree-model.js';
import type { TrainingData } from '../learner/data/training-data.js';
import type { GbdtParams } from '../learner/boosting/gbdt-params.js';

/** What a fold thread gets: the whole matrix in shared memory (X and y on SharedArrayBuffers) and its row split. */
export interface FoldTask extends Omit<TrainingData, 'weights'> {
  fold: number;
  trainRows: Int32Array;
  testRows: Int32Array;
  params: GbdtParams;
  initModel?: TreeEnsemble;
}
