// Worker thread entry: fits one cross-validation fold single-threaded (tuning on its training rows first when asked)
// and returns its test-row predictions with its best iteration.
import { serveWorkerTask } from '../common/serve-worker-task.js';
import type { TrainingProgress } from '../learner/boosting/gbdt-trainer.js';
import { selectRows } from '../learner/data/training-data.js';
import { FastTreePredictor } from '../learner/model/fast-predictor.js';
import type { FoldOutcome, FoldTask } from './fold-protocol.js';
import { tunedFit } from './hyperparameter-search.js';

serveWorkerTask<FoldTask, TrainingProgress, FoldOutcome>(async (task, ctx) => {
  const { fold: _fold, trainRows: _train, testRows: _test, params: _params, initModel: _init, tune: _tune, ...data } = task;
  const { fit, summary } = await tunedFit(data, task.trainRows, task.params, task.tune, {
    threads: 1,
    signal: ctx.signal,
    initModel: task.initModel,
    onProgress: (p) => ctx.progress(p, { force: p.round === p.nRounds }),
    // The search's fits report as the fold's rounds too: a long search would otherwise look stalled.
    onTuning: (t) => ctx.progress(t.progress),
  });
  const test = selectRows(data, task.testRows);
  return { predictions: new FastTreePredictor(fit.model).predict(test.X, test.nRows), bestIteration: fit.bestIteration, search: summary };
});
