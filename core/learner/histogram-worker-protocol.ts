import type { MessagePort } from 'node:worker_threads';
import { buildHistograms, type HistogramTask } from './histogram.js';
import type { TrainingBuffers } from './histogram-builder.js';

/**
 * The shared-memory protocol between the histogram pool (main thread) and its workers. One batch = one
 * generation: the main thread writes tasks, bumps GEN and notifies; each worker builds the histograms of its share
 * of the active features, increments DONE and notifies. Per batch this costs a few microseconds, where a
 * postMessage round trip (comlink) costs tens — and a tree has dozens of batches.
 */
export const CTRL = { GEN: 0, DONE: 1, CMD: 2, N_TASKS: 3, N_ACTIVE: 4, ERROR: 5, SIZE: 8 } as const;
export const CMD_BUILD = 1;
export const CMD_EXIT = 2;

export interface HistogramWorkerInit {
  buffers: TrainingBuffers;
  ctrl: Int32Array;
  tasks: Int32Array;
  active: Int32Array;
  threadIndex: number;
  threads: number;
}

/** Which slice of the active features thread t owns. */
export function featureShare(nActive: number, t: number, threads: number): [number, number] {
  return [Math.floor((t * nActive) / threads), Math.floor(((t + 1) * nActive) / threads)];
}

export function readTasks(tasks: Int32Array, n: number): HistogramTask[] {
  const out: HistogramTask[] = [];
  for (let i = 0; i < n; i++) out.push({ start: tasks[3 * i], end: tasks[3 * i + 1], slot: tasks[3 * i + 2] });
  return out;
}

/** The worker side: waits for batches until told to exit. Errors are reported through ERROR and a message. */
export function runHistogramWorker(init: HistogramWorkerInit, port: MessagePort): void {
  const { buffers: b, ctrl, tasks, active, threadIndex, threads } = init;
  // Read the generation before announcing readiness: the pool may post its first batch the moment it hears 'ready'.
  let gen = Atomics.load(ctrl, CTRL.GEN);
  port.postMessage({ type: 'ready' });
  for (;;) {
    // Spin briefly (the next batch usually follows within microseconds), then sleep on the futex.
    let spins = 0;
    while (Atomics.load(ctrl, CTRL.GEN) === gen && spins < 4000) spins++;
    if (Atomics.load(ctrl, CTRL.GEN) === gen) Atomics.wait(ctrl, CTRL.GEN, gen);
    gen = Atomics.load(ctrl, CTRL.GEN);
    if (Atomics.load(ctrl, CTRL.CMD) === CMD_EXIT) return;
    try {
      const nActive = ctrl[CTRL.N_ACTIVE];
      const [j0, j1] = featureShare(nActive, threadIndex, threads);
      const list = readTasks(tasks, ctrl[CTRL.N_TASKS]);
      buildHistograms(list, b.bins, b.nFeatures, b.rowIndex, b.grad, b.hess, b.hist, b.histStride, b.featureOffset, b.featureBinCount, active, j0, j1);
    } catch (e) {
      Atomics.store(ctrl, CTRL.ERROR, 1);
      port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    }
    Atomics.add(ctrl, CTRL.DONE, 1);
    Atomics.notify(ctrl, CTRL.DONE);
  }
}
