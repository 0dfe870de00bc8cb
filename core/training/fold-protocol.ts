import type { TreeEnsemble } from '../learner/model/tree-model.js';
import type { TrainingData } from '../learner/data/training-data.js';
import type { GbdtParams } from '../learner/boosting/gbdt-params.js';
import type { SearchSummary, TuneRequest } from './hyperparameter-search.js';

/** What a fold thread gets: the whole matrix in shared memory (X and y on SharedArrayBuffers) and its row split. */
export interface FoldTask extends Omit<TrainingData, 'weights'> {
  fold: number;
  trainRows: Int32Array;
  testRows: Int32Array;
  params: GbdtParams;
  initModel?: TreeEnsemble;
  /** Tune on this fold's training rows (never its test rows) before fitting. */
  tune?: TuneRequest;
}

/** What a fold thread returns: its test-row predictions and how its model was made. */
export interface FoldOutcome {
  predictions: Float64Array;
  /** Trees the fold's model kept. */
  bestIteration: number;
  /** The fold's own search, when it tuned. */
  search: SearchSummary | null;
}
