// Worker thread entry: fits one cross-validation fold single-threaded and returns its test-row predictions.
import { serveWorkerTask } from '../common/serve-worker-task.js';
import { trainGbdt, type TrainingProgress } from '../learner/boosting/gbdt-trainer.js';
import { selectRows } from '../learner/data/training-data.js';
import { FastTreePredictor } from '../learner/model/fast-predictor.js';
import type { FoldTask } from './fold-protocol.js';

serveWorkerTask<FoldTask, TrainingProgress, Float64Array>(async (task, ctx) => {
  const { fold: _fold, trainRows: _train, testRows: _test, params: _params, initModel: _init, ...data } = task;
  const fit = await trainGbdt(selectRows(data, task.trainRows), task.params, {
    threads: 1,
    signal: ctx.signal,
    initModel: task.initModel,
    onProgress: (p) => ctx.progress(p, { force: p.round === p.nRounds }),
  });
  const test = selectRows(data, task.testRows);
  return new FastTreePredictor(fit.model).predict(test.X, test.nRows);
});
