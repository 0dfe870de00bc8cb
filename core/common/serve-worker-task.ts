import { parentPort, workerData, type Transferable } from 'node:worker_threads';
import { serializeError } from './errors.js';
import type { WorkerTaskCommand, WorkerTaskMessage } from './worker-task.js';

/** What the work inside a worker thread gets (see worker-task.ts for the protocol). */
export interface WorkerTaskContext<Progress> {
  /** Aborts when the owner cancels. */
  signal: AbortSignal;
  /** Reports progress; at most one message per `throttleMs` unless `force` (e.g. the last round). */
  progress(p: Progress, options?: { force?: boolean }): void;
  /**
   * Sends `p` (with `transfer`red buffers) and resolves once fewer than `inFlight` sent messages wait for the
   * owner: back-pressure for streams of data such as the ingest reader's batches. Never throttled.
   */
  send(p: Progress, transfer: Transferable[], inFlight: number): Promise<void>;
  /** Posts one log line to the owner, which writes it to its log. */
  log(line: string): void;
}

/**
 * The worker side of a task: runs `work` with the thread's start data and posts `done` or `failed` exactly once,
 * then closes the port so the thread can exit. Worker files call this and do nothing else.
 */
export function serveWorkerTask<Start, Progress, Result>(
  work: (start: Start, task: WorkerTaskContext<Progress>) => Promise<Result>,
  options: { throttleMs?: number } = {},
): void {
  const port = parentPort;
  if (!port) throw new Error('serveWorkerTask runs only in a worker thread');
  const post = (m: WorkerTaskMessage<Progress, Result>, transfer?: Transferable[]) => port.postMessage(m, transfer);
  const controller = new AbortController();
  const throttle = options.throttleMs ?? 50;
  let last = -Infinity;
  let unacked = 0;
  let wake: (() => void) | null = null;
  port.on('message', (m: WorkerTaskCommand) => {
    if (m.type === 'cancel') controller.abort();
    else if (m.type === 'ack') {
      unacked--;
      wake?.();
      wake = null;
    }
  });
  const context: WorkerTaskContext<Progress> = {
    signal: controller.signal,
    progress(p, o) {
      const now = performance.now();
      if (!o?.force && now - last < throttle) return;
      last = now;
      unacked++;
      post({ type: 'progress', progress: p });
    },
    async send(p, transfer, inFlight) {
      while (unacked >= inFlight) await new Promise<void>((resolve) => (wake = resolve));
      unacked++;
      post({ type: 'progress', progress: p }, transfer);
    },
    log: (line) => post({ type: 'log', line }),
  };
  void (async () => {
    try {
      post({ type: 'done', result: await work(workerData as Start, context) });
    } catch (e) {
      post({ type: 'failed', error: serializeError(e) });
    } finally {
      // The command listener would keep this thread alive forever; the task is over.
      port.close();
    }
  })();
}
