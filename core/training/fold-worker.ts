// Worker thread entry: fits one cross-validation fold single-threaded and returns its test-row predictions.
import { parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '../common/errors.js';
import { trainGbdt } from '../learner/gbdt-trainer.js';
import { selectRows } from '../learner/training-data.js';
import { FastTreePredictor } from '../learner/fast-predictor.js';
import type { FoldMessage, FoldTask } from './fold-protocol.js';

const port = parentPort!;
const task = workerData as FoldTask;
const controller = new AbortController();
port.on('message', (m: { type: string }) => {
  if (m.type === 'cancel') controller.abort();
});
const post = (m: FoldMessage) => port.postMessage(m);
let last = 0;

try {
  const { fold: _fold, trainRows: _train, testRows: _test, params: _params, initModel: _init, ...data } = task;
  const fit = await trainGbdt(selectRows(data, task.trainRows), task.params, {
    threads: 1,
    signal: controller.signal,
    initModel: task.initModel,
    onProgress: (p) => {
      const now = performance.now();
      if (now - last < 50 && p.round !== p.nRounds) return;
      last = now;
      post({ type: 'progress', progress: p });
    },
  });
  const test = selectRows(data, task.testRows);
  post({ type: 'done', predictions: new FastTreePredictor(fit.model).predict(test.X, test.nRows) });
} catch (e) {
  post({ type: 'failed', error: serializeError(e) });
} finally {
  // The message listener would keep this thread alive forever; the fold is done.
  port.close();
}
