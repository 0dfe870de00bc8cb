import os from 'node:os';
import { AppraiseError, deserializeError } from '../common/errors.js';
import { startWorker } from '../common/worker-entry.js';
import type { TrainingData } from '../learner/training-data.js';
import type { GbdtParams } from '../learner/gbdt-params.js';
import type { TreeEnsemble } from '../learner/tree-model.js';
import type { TrainingProgress } from '../learner/gbdt-trainer.js';
import type { FoldMessage, FoldTask } from './fold-protocol.js';

export interface FoldJob {
  fold: number;
  trainRows: Int32Array;
  testRows: Int32Array;
}

export interface ParallelFoldOptions {
  /** Folds fitted at once, one thread each. Default: the number of cores. */
  concurrency?: number;
  initModel?: TreeEnsemble;
  signal?: AbortSignal;
  onProgress?: (fold: number, p: TrainingProgress) => void;
}

/**
 * Fits cross-validation folds in parallel worker threads, each fold single-threaded (the learner gives the same
 * trees for any thread count, so results do not depend on the concurrency). The feature matrix is placed in
 * shared memory once and read by every fold thread without copies. Returns each fold's test-row predictions.
 */
export async function fitFoldsInParallel(data: TrainingData, jobs: FoldJob[], params: GbdtParams, opts: ParallelFoldOptions = {}): Promise<Map<number, Float64Array>> {
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

  const runOne = (job: FoldJob) =>
    new Promise<void>((resolve, reject) => {
      const task: FoldTask = {
        fold: job.fold,
        nRows: data.nRows,
        nFeatures: data.nFeatures,
        X,
        y,
        featureNames: data.featureNames,
        featureKinds: data.featureKinds,
        categoryCounts: data.categoryCounts,
        trainRows: job.trainRows,
        testRows: job.testRows,
        params,
        initModel: opts.initModel,
      };
      const worker = startWorker(import.meta.url, 'fold-worker', { workerData: task });
      const handle = { cancel: () => worker.postMessage({ type: 'cancel' }) };
      live.add(handle);
      let settled = false;
      worker.on('message', (m: FoldMessage) => {
        if (m.type === 'progress') opts.onProgress?.(job.fold, m.progress);
        else if (m.type === 'done') {
          settled = true;
          results.set(job.fold, m.predictions);
          resolve();
        } else {
          settled = true;
          reject(deserializeError(m.error));
        }
        if (settled) void worker.terminate();
      });
      worker.on('error', (e) => {
        settled = true;
        reject(new AppraiseError('INTERNAL', `fold ${job.fold} thread failed: ${e.message}`, { cause: e }));
      });
      worker.on('exit', () => {
        live.delete(handle);
        if (!settled) reject(new AppraiseError('INTERNAL', `fold ${job.fold} thread exited before finishing`));
      });
    }).finally(() => undefined);

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
