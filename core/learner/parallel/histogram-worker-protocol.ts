import type { MessagePort } from 'node:worker_threads';
import type { FeatureBins } from '../data/feature-binning.js';
import type { SplitConstraints } from '../tree/split-finder.js';
import type { TrainingBuffers } from '../tree/training-buffers.js';
import { decodeNodeBatch, runNodeBatchShare } from '../tree/node-batch.js';

/**
 * The shared-memory protocol between the batch runner (main thread) and its workers. One batch = one generation:
 * the main thread encodes the batch, bumps GEN and notifies; each worker runs its share of the active features,
 * increments DONE and notifies. Per batch this costs microseconds, where a postMessage round trip (comlink) costs
 * tens — and a tree has dozens of batches.
 */
export const CTRL = { GEN: 0, DONE: 1, CMD: 2, N_ACTIVE: 3, ERROR: 4, PARTITIONED: 5, STATE: 8 } as const;
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
  leftBinsPool: Uint8Array;
  results: Float64Array;
  active: Int32Array;
  /** Thread t's share of a batch: active features bounds[t]..bounds[t+1] (set per batch by the pool). */
  bounds: Int32Array;
  threadIndex: number;
  threads: number;
}

/** How long a thread busy-waits for its partner before sleeping on the futex. */
export const SPIN_MS = 1;

/** Busy-waits while ctrl[index] === value, for at most `ms`. Returns the value last seen. */
export function spinWhileEqual(ctrl: Int32Array, index: number, value: number, ms: number): number {
  const until = performance.now() + ms;
  for (let spins = 1; ; spins++) {
    const v = Atomics.load(ctrl, index);
    if (v !== value) return v;
    // Reading the clock costs more than a load: look at it every 256 spins only.
    if ((spins & 255) === 0 && performance.now() > until) return v;
  }
}

/**
 * Every thread arrives here once its partitions of the batch are done, and leaves when all have arrived (the
 * histograms read the partitioned rows). The pool zeroes PARTITIONED before each batch. A thread that failed sets
 * ERROR, which releases the others: the batch is then discarded.
 */
export function partitionBarrier(ctrl: Int32Array, threads: number): void {
  let arrived = Atomics.add(ctrl, CTRL.PARTITIONED, 1) + 1;
  if (arrived >= threads) {
    Atomics.notify(ctrl, CTRL.PARTITIONED);
    return;
  }
  const deadline = Date.now() + 120_000;
  for (;;) {
    arrived = spinWhileEqual(ctrl, CTRL.PARTITIONED, arrived, SPIN_MS);
    if (arrived >= threads || Atomics.load(ctrl, CTRL.ERROR) !== 0) return;
    Atomics.wait(ctrl, CTRL.PARTITIONED, arrived, 50);
    // A thread that died without reporting (killed) would hold everyone here: give up and flag the batch as failed.
    if (Date.now() > deadline) {
      Atomics.store(ctrl, CTRL.ERROR, 1);
      return;
    }
  }
}

/** The worker side: waits for batches until told to exit. Errors are reported through ERROR and a message. */
export function runHistogramWorker(init: HistogramWorkerInit, port: MessagePort): void {
  const { buffers, featureBins, constraints, ctrl, batch, leftBinsPool, results, active, bounds, threadIndex, threads } = init;
  const barrier = () => partitionBarrier(ctrl, threads);
  // Read the generation before announcing readiness: the pool may post its first batch the moment it hears 'ready'.
  let gen = Atomics.load(ctrl, CTRL.GEN);
  port.postMessage({ type: 'ready' });
  for (;;) {
    // Spin for up to a millisecond (the main thread's work between two batches — partitioning rows, bookkeeping —
    // usually takes less), then sleep on the futex. Waking a sleeping thread took 100–200 µs on the 2-vCPU VM, which
    // over the ~6000 batches of a KC training cost more than the parallel work saved. The wait sits in a loop on
    // purpose: the main thread bumps GEN before it notifies, so a worker can finish that batch and go back to sleep
    // before the notify lands; the late notify then wakes it with GEN unchanged, and running the same batch twice
    // would count DONE twice and stall the pool (seen on a loaded machine).
    spinWhileEqual(ctrl, CTRL.GEN, gen, SPIN_MS);
    while (Atomics.load(ctrl, CTRL.GEN) === gen) Atomics.wait(ctrl, CTRL.GEN, gen);
    gen = Atomics.load(ctrl, CTRL.GEN);
    if (Atomics.load(ctrl, CTRL.CMD) === CMD_EXIT) return;
    Atomics.store(ctrl, CTRL.STATE + 2 * threadIndex, gen);
    Atomics.store(ctrl, CTRL.STATE + 2 * threadIndex + 1, 1);
    try {
      const nActive = ctrl[CTRL.N_ACTIVE];
      const range = { active: active.subarray(0, nActive), j0: bounds[threadIndex], j1: bounds[threadIndex + 1], all: nActive === buffers.nFeatures };
      runNodeBatchShare(decodeNodeBatch(batch, leftBinsPool), buffers, featureBins, constraints, range, results, threadIndex, threads, barrier);
    } catch (e) {
      Atomics.store(ctrl, CTRL.ERROR, 1);
      port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    }
    Atomics.store(ctrl, CTRL.STATE + 2 * threadIndex + 1, 0);
    Atomics.add(ctrl, CTRL.DONE, 1);
    Atomics.notify(ctrl, CTRL.DONE);
  }
}
