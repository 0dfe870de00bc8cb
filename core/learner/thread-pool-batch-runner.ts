import type { Worker } from 'node:worker_threads';
import { startWorker } from '../common/worker-entry.js';
import { AppraiseError } from '../common/errors.js';
import { buildHistograms, type HistogramTask } from './histogram.js';
import { allocateBuffers, type BufferShape, type HistogramBuilder, type TrainingBuffers } from './histogram-builder.js';
import { CMD_BUILD, CMD_EXIT, CTRL, featureShare, type HistogramWorkerInit } from './histogram-worker-protocol.js';

/**
 * Below this many (row × feature) updates a batch is built on the main thread alone: waking a worker costs more
 * than it saves. Results do not depend on it (each histogram entry is always summed in row order).
 */
const MIN_PARALLEL_WORK = 40_000;

/**
 * Histogram construction split by feature across `threads` threads: the main thread plus threads−1 workers, all
 * reading the binned matrix, gradients and row partition from SharedArrayBuffers. The training driver owns the
 * pool and must call `close` (which terminates the workers) when training ends or fails.
 */
export class ThreadPoolHistogramBuilder implements HistogramBuilder {
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(CTRL.SIZE * 4));
  private readonly tasks: Int32Array;
  private readonly active: Int32Array;
  private nActive = 0;
  private workerError: string | null = null;
  private closed = false;

  private constructor(
    readonly buffers: TrainingBuffers,
    readonly threads: number,
    private readonly workers: Worker[] = [],
  ) {
    this.tasks = new Int32Array(new SharedArrayBuffer(buffers.nSlots * 3 * 4));
    this.active = new Int32Array(new SharedArrayBuffer(buffers.nFeatures * 4));
  }

  static async start(shape: BufferShape, threads: number): Promise<ThreadPoolHistogramBuilder> {
    const pool = new ThreadPoolHistogramBuilder(allocateBuffers(shape, true), threads);
    try {
      await Promise.all(Array.from({ length: threads - 1 }, (_, i) => pool.spawn(i + 1)));
    } catch (e) {
      await pool.close();
      throw new AppraiseError('INTERNAL', `could not start histogram workers: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    return pool;
  }

  private spawn(threadIndex: number): Promise<void> {
    const init: HistogramWorkerInit = { buffers: this.buffers, ctrl: this.ctrl, tasks: this.tasks, active: this.active, threadIndex, threads: this.threads };
    const w = startWorker(import.meta.url, 'histogram-worker', { workerData: init });
    this.workers.push(w);
    return new Promise((resolve, reject) => {
      w.on('message', (m: { type: string; message?: string }) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'error') this.workerError = m.message ?? 'unknown worker error';
      });
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`histogram worker exited with code ${code}`)));
    });
  }

  setActiveFeatures(active: Int32Array): void {
    this.active.set(active);
    this.nActive = active.length;
  }

  build(tasks: readonly HistogramTask[]): void {
    const b = this.buffers;
    const active = this.active.subarray(0, this.nActive);
    let work = 0;
    for (const t of tasks) work += t.end - t.start;
    work *= this.nActive;
    if (this.threads === 1 || work < MIN_PARALLEL_WORK) {
      buildHistograms(tasks, b.bins, b.nFeatures, b.rowIndex, b.grad, b.hess, b.hist, b.histStride, b.featureOffset, b.featureBinCount, active, 0, this.nActive);
      return;
    }
    const ctrl = this.ctrl;
    tasks.forEach((t, i) => {
      this.tasks[3 * i] = t.start;
      this.tasks[3 * i + 1] = t.end;
      this.tasks[3 * i + 2] = t.slot;
    });
    ctrl[CTRL.N_TASKS] = tasks.length;
    ctrl[CTRL.N_ACTIVE] = this.nActive;
    ctrl[CTRL.CMD] = CMD_BUILD;
    Atomics.store(ctrl, CTRL.DONE, 0);
    Atomics.add(ctrl, CTRL.GEN, 1);
    Atomics.notify(ctrl, CTRL.GEN);
    const [j0, j1] = featureShare(this.nActive, 0, this.threads);
    buildHistograms(tasks, b.bins, b.nFeatures, b.rowIndex, b.grad, b.hess, b.hist, b.histStride, b.featureOffset, b.featureBinCount, active, j0, j1);
    const expected = this.threads - 1;
    const deadline = Date.now() + 120_000;
    for (let spins = 0; ; spins++) {
      const done = Atomics.load(ctrl, CTRL.DONE);
      if (done === expected) break;
      if (spins > 2000) {
        Atomics.wait(ctrl, CTRL.DONE, done, 50);
        if (Date.now() > deadline) throw new AppraiseError('INTERNAL', 'histogram workers stopped responding');
      }
    }
    if (Atomics.load(ctrl, CTRL.ERROR) !== 0) throw new AppraiseError('INTERNAL', `histogram worker failed: ${this.workerError ?? 'see worker log'}`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctrl, CTRL.CMD, CMD_EXIT);
    Atomics.add(this.ctrl, CTRL.GEN, 1);
    Atomics.notify(this.ctrl, CTRL.GEN);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
