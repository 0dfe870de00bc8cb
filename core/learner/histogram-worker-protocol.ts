import type { MessagePort } from 'node:worker_threads';
import type { FeatureBins } from './feature-binning.js';
import type { SplitConstraints } from './split-finder.js';
import type { TrainingBuffers } from './node-batch-runner.js';
import { decodeNodeBatch, runNodeBatchShare } from './node-batch.js';

/**
 * The shared-memory protocol between the batch runner (main thread) and its workers. One batch = one generation:
 * the main thread encodes the batch, bumps GEN and notifies; each worker runs its share of the active features,
 * increments DONE and notifies. Per batch this costs microseconds, where a postMessage round trip (comlink) costs
 * tens — and a tree has dozens of batches.
 */
export const CTRL = { GEN: 0, DONE: 1, CMD: 2, N_ACTIVE: 3, ERROR: 4, STATE: 8 } as const;
/** ctrl length for a pool: the fixed slots, then per thread [last generation seen, busy flag] for diagnostics. */
export const ctrlLength = (threads: number) => CTRL.STATE + 2 * threads;
export const CMD_BUILD = 1;
export const CMD_EXIT = 2;

export interface HistogramWorkerInit {
  buffers: TrainingBuffers;
  featureBins: readonly FeatureBins[];
  constraints: SplitConstraints;
  ctrl: Int32Array;
  batch: Float64Array;
  results: Float64Array;
  active: Int32Array;
  threadIndex: number;
  threads: number;
}

/** Which slice of the active features thread t owns (contiguous, in order: ties then resolve like one thread). */
export function featureShare(nActive: number, t: number, threads: number): [number, number] {
  return [Math.floor((t * nActive) / threads), Math.floor(((t + 1) * nActive) / threads)];
}

/** The worker side: waits for batches until told to exit. Errors are reported through ERROR and a message. */
export function runHistogramWorker(init: HistogramWorkerInit, port: MessagePort): void {
  const { buffers, featureBins, constraints, ctrl, batch, results, active, threadIndex, threads } = init;
  // Read the generation before announcing readiness: the pool may post its first batch the moment it hears 'ready'.
  let gen = Atomics.load(ctrl, CTRL.GEN);
  port.postMessage({ type: 'ready' });
  for (;;) {
    // Spin briefly (the next batch usually follows within microseconds), then sleep on the futex. The wait sits in a
    // loop on purpose: the main thread bumps GEN before it notifies, so a worker can finish that batch and go back to
    // sleep before the notify lands; the late notify then wakes it with GEN unchanged, and running the same batch
    // twice would count DONE twice and stall the pool (seen on a loaded machine).
    let spins = 0;
    while (Atomics.load(ctrl, CTRL.GEN) === gen && spins < 4000) spins++;
    while (Atomics.load(ctrl, CTRL.GEN) === gen) Atomics.wait(ctrl, CTRL.GEN, gen);
    gen = Atomics.load(ctrl, CTRL.GEN);
    if (Atomics.load(ctrl, CTRL.CMD) === CMD_EXIT) return;
    Atomics.store(ctrl, CTRL.STATE + 2 * threadIndex, gen);
    Atomics.store(ctrl, CTRL.STATE + 2 * threadIndex + 1, 1);
    try {
      const nActive = ctrl[CTRL.N_ACTIVE];
      const [j0, j1] = featureShare(nActive, threadIndex, threads);
      runNodeBatchShare(decodeNodeBatch(batch), buffers, featureBins, constraints, active.subarray(0, nActive), j0, j1, results, threadIndex, threads);
    } catch (e) {
      Atomics.store(ctrl, CTRL.ERROR, 1);
      port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    }
    Atomics.store(ctrl, CTRL.STATE + 2 * threadIndex + 1, 0);
    Atomics.add(ctrl, CTRL.DONE, 1);
    Atomics.notify(ctrl, CTRL.DONE);
  }
}
