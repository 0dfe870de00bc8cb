import type { ResourceLimits, Transferable, Worker } from 'node:worker_threads';
import { AppraiseError, deserializeError, type SerializedError } from './errors.js';
import { startWorker } from './worker-entry.js';

/**
 * The one protocol between a thread that starts work and the worker thread that does it (jobs, cross-validation
 * folds, the ingest reader): the worker gets its start data as `workerData`, reports progress (any number of
 * times; the owner acknowledges each, for flow control), then either `done` or `failed`, exactly once. Log lines
 * travel too, so a worker never writes the log file itself.
 */
export type WorkerTaskMessage<Progress, Result> =
  { type: 'progress'; progress: Progress } | { type: 'done'; result: Result } | { type: 'failed'; error: SerializedError } | { type: 'log'; line: string };

/** From the owner to the worker: stop (the worker's signal aborts), or one progress message was taken. */
export type WorkerTaskCommand = { type: 'cancel' } | { type: 'ack' };

export interface WorkerTaskOptions<Progress> {
  /** What the thread is, for error messages ("the training job thread"). */
  describe: string;
  /** Called for each progress message; a throw fails the task with that error (and ends the thread). */
  onProgress?: (p: Progress) => void;
  /** Log lines the worker forwards (JSON lines for the owner's logger). */
  onLog?: (line: string) => void;
  /** Aborting cancels the task (see `cancel`). */
  signal?: AbortSignal;
  /**
   * How a cancel ends the task: 'cooperative' (default) tells the worker, which cleans up and fails with
   * CANCELLED; 'terminate' settles at once with `cancelError()` and ends the thread (for workers that hold
   * nothing to clean up, such as the ingest reader).
   */
  cancelMode?: 'cooperative' | 'terminate';
  cancelError?: () => AppraiseError;
  /** End the thread as soon as the task settles instead of letting it exit by itself. Default false. */
  terminateWhenSettled?: boolean;
  resourceLimits?: ResourceLimits;
  /**
   * The error a thread that ran out of its `resourceLimits` memory settles with. Default INTERNAL; owners whose
   * memory use follows the user's settings (the ingest batch size) say which setting to change (issue 14, #8).
   */
  outOfMemoryError?: () => AppraiseError;
  transferList?: Transferable[];
}

export interface WorkerTask<Result> {
  /** Settles once: the result, or the task's AppraiseError (CANCELLED after a cancel). */
  result: Promise<Result>;
  cancel(): void;
  /** Resolves when the thread has exited. */
  exited: Promise<void>;
  /** Ends the thread now (after the result has settled, or to abandon it). */
  terminate(): Promise<void>;
}

/**
 * Starts `baseName` (a module beside `callerUrl`, see worker-entry.ts) with `start` as its workerData and
 * handles the protocol: progress, settling exactly once, a thread that dies or exits without an answer (INTERNAL),
 * and cancellation.
 */
export function runWorkerTask<Start, Progress, Result>(
  callerUrl: string,
  baseName: string,
  start: Start,
  options: WorkerTaskOptions<Progress>,
): WorkerTask<Result> {
  const worker: Worker = startWorker(callerUrl, baseName, { workerData: start, resourceLimits: options.resourceLimits, transferList: options.transferList });
  let settled = false;
  let cancelled = false;
  let resolveResult!: (r: Result) => void;
  let rejectResult!: (e: unknown) => void;
  const result = new Promise<Result>((res, rej) => {
    resolveResult = res;
    rejectResult = rej;
  });
  const exited = new Promise<void>((res) => worker.once('exit', () => res()));
  const cancelError = options.cancelError ?? (() => new AppraiseError('CANCELLED', `${options.describe} was cancelled`));

  const settle = (error: unknown, value?: Result) => {
    if (settled) return;
    settled = true;
    options.signal?.removeEventListener('abort', cancel);
    if (options.terminateWhenSettled) void worker.terminate();
    if (error === null) resolveResult(value as Result);
    else rejectResult(error);
  };
  function cancel() {
    if (settled || cancelled) return;
    cancelled = true;
    if (options.cancelMode === 'terminate') {
      settle(cancelError());
      void worker.terminate();
    } else worker.postMessage({ type: 'cancel' } satisfies WorkerTaskCommand);
  }

  worker.on('message', (m: WorkerTaskMessage<Progress, Result>) => {
    if (m.type === 'log') return options.onLog?.(m.line);
    if (settled) return;
    if (m.type === 'progress') {
      try {
        options.onProgress?.(m.progress);
      } catch (e) {
        settle(e);
        void worker.terminate();
        return;
      }
      worker.postMessage({ type: 'ack' } satisfies WorkerTaskCommand);
    } else if (m.type === 'done') settle(null, m.result);
    else settle(deserializeError(m.error));
  });
  worker.on('error', (e) => {
    const oom = (e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
    settle(
      oom && options.outOfMemoryError ? options.outOfMemoryError() : new AppraiseError('INTERNAL', `${options.describe} failed: ${e.message}`, { cause: e }),
    );
  });
  worker.on('exit', (code) => settle(cancelled ? cancelError() : new AppraiseError('INTERNAL', `${options.describe} exited (code ${code}) before finishing`)));
  if (options.signal?.aborted) cancel();
  else options.signal?.addEventListener('abort', cancel, { once: true });

  return {
    result,
    cancel,
    exited,
    terminate: async () => {
      await worker.terminate();
    },
  };
}
