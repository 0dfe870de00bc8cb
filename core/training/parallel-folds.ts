import os from 'node:os';
import { AppraiseError } from '../common/errors.js';
import { runWorkerTask } from '../common/worker-task.js';
import type { TrainingData } from '../learner/data/training-data.js';
import type { GbdtParams } from '../learner/boosting/gbdt-params.js';
import type { TreeEnsemble } from '../learner/model/tree-model.js';
import type { TrainingProgress } from '../learner/boosting/gbdt-trainer.js';
import type { FoldOutcome, FoldTask } from './fold-protocol.js';
import type { TuneRequest } from './hyperparameter-search.js';

export interface FoldJob {
  fold: number;
  trainRows: Int32Array;
  testRows: Int32Array;
  /**
   * This fold's own target for every row (only its training rows are read), when it differs from the shared one:
   * prices deflated by a price index estimated on this fold's training rows alone.
   */
  y?: Float64Array;
}

export interface ParallelFoldOptions {
  /** Folds fitted at once, one thread each. Default: the number of cores. */
  concurrency?: number;
  initModel?: TreeEnsemble;
  signal?: AbortSignal;
  onProgress?: (fold: number, p: TrainingProgress) => void;
  /** Each fold tunes on its own training rows first. */
  tune?: TuneRequest;
  /** Filled with each fold's best iteration and search summary. */
  outcomes?: Map<number, Omit<FoldOutcome, 'predictions'>>;
}

/**
 * Fits cross-validation folds in parallel worker threads, each fold single-threaded (the learner gives the same
 * trees for any thread count, so results do not depend on the concurrency). The feature matrix is placed in
 * shared memory once and read by every fold thread without copies. Returns each fold's test-row predictions.
 */
export async function fitFoldsInParallel(
  data: TrainingData,
  jobs: FoldJob[],
  params: GbdtParams,
  opts: ParallelFoldOptions = {},
): Promise<Map<number, Float64Array>> {
  const concurrency = Math.max(1, Math.min(opts.concurrency ?? os.availableParallelism(), jobs.length));
  const X = new Float32Array(new SharedArrayBuffer(data.X.byteLength));
  X.set(data.X);
  const y = new Float64Array(new SharedArrayBuffer(data.y.byteLength));
  y.set(data.y);
  const results = new Map<number, Float64Array>();
  const queue = [...jobs];
  const live = new Set<{ cancel(): void }>();
  let failure: unknown = null;
  const onAbort = () => live.forEach((w) => w.cancel());
  opts.signal?.addEventListener('abort', onAbort);

  const runOne = async (job: FoldJob): Promise<void> => {
    const start: FoldTask = {
      fold: job.fold,
      nRows: data.nRows,
      nFeatures: data.nFeatures,
      X,
      y: job.y ? shared(job.y) : y,
      featureNames: data.featureNames,
      featureKinds: data.featureKinds,
      categoryCounts: data.categoryCounts,
      trainRows: job.trainRows,
      testRows: job.testRows,
      params,
      initModel: opts.initModel,
      tune: opts.tune,
    };
    const task = runWorkerTask<FoldTask, TrainingProgress, FoldOutcome>(import.meta.url, 'fold-worker', start, {
      describe: `fold ${job.fold} thread`,
      onProgress: (p) => opts.onProgress?.(job.fold, p),
      cancelError: () => new AppraiseError('CANCELLED', 'training cancelled'),
      terminateWhenSettled: true,
    });
    live.add(task);
    try {
      const { predictions, ...outcome } = await task.result;
      results.set(job.fold, predictions);
      opts.outcomes?.set(job.fold, outcome);
    } finally {
      live.delete(task);
    }
  };

  const lanes = Array.from({ length: concurrency }, async () => {
    while (queue.length > 0 && failure === null) {
      const job = queue.shift()!;
      try {
        await runOne(job);
      } catch (e) {
        failure ??= e;
        onAbort();
      }
    }
  });
  try {
    await Promise.all(lanes);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  if (failure !== null) throw failure;
  if (opts.signal?.aborted) throw new AppraiseError('CANCELLED', 'training cancelled');
  return results;
}

function shared(a: Float64Array): Float64Array {
  const out = new Float64Array(new SharedArrayBuffer(a.byteLength));
  out.set(a);
  return out;
}
