import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../common/worker-entry.js';
import { AppraiseError } from '../../common/errors.js';
import type { FeatureBins } from '../data/feature-binning.js';
import type { SplitCandidate, SplitConstraints } from '../tree/split-finder.js';
import { balanceFeatureShares, encodeNodeBatch, LEFT_BINS_STRIDE, nodeBatchCapacity, runNodeBatchShare, type NodeBatch } from '../tree/node-batch.js';
import { assignPartitionOwners } from '../tree/row-partition.js';
import { mergeSearchResults, type NodeBatchRunner } from '../tree/node-batch-runner.js';
import { allocateBuffers, type BufferShape, type TrainingBuffers } from '../tree/training-buffers.js';
import { CMD_BUILD, CMD_EXIT, CTRL, ctrlLength, partitionBarrier, SPIN_MS, spinWhileEqual, type HistogramWorkerInit } from './histogram-worker-protocol.js';

const noBarrier = () => {};

/** A level is shared by node ('nodes' mode) from this many partitions per thread (balance is good enough then). */
const NODE_MODE_PARTS_PER_THREAD = 2;

/**
 * Estimated cost of each partition's share of a 'nodes' batch, in nanoseconds as measured on the KC table:
 * partitioning ~6 per row, histogram building ~2.3 per row and feature, searching ~2.5 and subtracting ~2 per bin.
 * Balancing by rows alone left the main thread waiting ~0.8 s of a 5 s KC training for its worker.
 */
function nodeCosts(batch: NodeBatch, nActive: number, totalBins: number): Float64Array {
  const w = Float64Array.from(batch.partitions, (p) => 6 * (p.end - p.start));
  for (const x of batch.builds) if (x.part >= 0) w[x.part] += 2.3 * x.rows * nActive;
  for (const s of batch.searches) if (s.part >= 0) w[s.part] += 2.5 * totalBins;
  for (const s of batch.subtractions) if (s.part >= 0) w[s.part] += 2 * totalBins;
  return w;
}

/**
 * Below this much work (rows partitioned, row × feature histogram updates, histogram bins scanned) a batch runs on
 * the main thread alone: about 0.1 ms of work, where handing it over costs a few microseconds while the workers spin
 * (see SPIN_MS) and 100–200 µs when they have gone to sleep. Results do not depend on it.
 */
export const MIN_PARALLEL_WORK = 50_000;

/**
 * Node batches shared by `threads` threads — the main thread plus threads−1 workers — by feature or by node (see
 * NodeBatch.mode), all reading the binned matrix and writing the row partition, gradients and disjoint parts of the
 * histograms in SharedArrayBuffers.
 * The training driver owns the pool and must call `close` (which terminates the workers) when training ends or fails.
 */
export class ThreadPoolBatchRunner implements NodeBatchRunner {
  private readonly ctrl: Int32Array;
  private readonly exited: (number | null)[] = [];
  private readonly batchBuffer: Float64Array;
  private readonly leftBinsPool: Uint8Array;
  private readonly barrier: () => void;
  private readonly results: Float64Array;
  private readonly active: Int32Array;
  /** Per batch: thread t works on active features bounds[t]..bounds[t+1]. */
  private readonly bounds: Int32Array;
  private nActive = 0;
  private workerError: string | null = null;
  private closed = false;
  private readonly workers: Worker[] = [];

  private constructor(
    readonly buffers: TrainingBuffers,
    readonly threads: number,
    private readonly featureBins: readonly FeatureBins[],
    private readonly constraints: SplitConstraints,
    private readonly minParallelWork: number,
  ) {
    this.ctrl = new Int32Array(new SharedArrayBuffer(ctrlLength(threads) * 4));
    this.batchBuffer = new Float64Array(new SharedArrayBuffer(nodeBatchCapacity(buffers.nSlots) * 8));
    this.leftBinsPool = new Uint8Array(new SharedArrayBuffer(buffers.nSlots * LEFT_BINS_STRIDE));
    this.barrier = () => partitionBarrier(this.ctrl, threads);
    this.results = new Float64Array(new SharedArrayBuffer(buffers.nSlots * threads * 2 * 8));
    this.active = new Int32Array(new SharedArrayBuffer(buffers.nFeatures * 4));
    this.bounds = new Int32Array(new SharedArrayBuffer((threads + 1) * 4));
  }

  static async start(
    shape: BufferShape,
    threads: number,
    featureBins: readonly FeatureBins[],
    constraints: SplitConstraints,
    minParallelWork = MIN_PARALLEL_WORK,
  ): Promise<ThreadPoolBatchRunner> {
    const pool = new ThreadPoolBatchRunner(allocateBuffers(shape, true), threads, featureBins, constraints, minParallelWork);
    try {
      await Promise.all(Array.from({ length: threads - 1 }, (_, i) => pool.spawn(i + 1)));
    } catch (e) {
      await pool.close();
      throw new AppraiseError('INTERNAL', `could not start histogram workers: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    return pool;
  }

  private spawn(threadIndex: number): Promise<void> {
    const init: HistogramWorkerInit = {
      buffers: this.buffers,
      featureBins: this.featureBins,
      constraints: {
        lambda: this.constraints.lambda,
        minSamplesLeaf: this.constraints.minSamplesLeaf,
        minChildWeight: this.constraints.minChildWeight,
        minGain: this.constraints.minGain,
        catSmooth: this.constraints.catSmooth,
        catL2: this.constraints.catL2,
        minDataPerGroup: this.constraints.minDataPerGroup,
        maxCatThreshold: this.constraints.maxCatThreshold,
      },
      ctrl: this.ctrl,
      batch: this.batchBuffer,
      leftBinsPool: this.leftBinsPool,
      results: this.results,
      active: this.active,
      bounds: this.bounds,
      threadIndex,
      threads: this.threads,
    };
    const w = startWorker(import.meta.url, 'histogram-worker', { workerData: init });
    this.workers.push(w);
    return new Promise((resolve, reject) => {
      w.on('message', (m: { type: string; message?: string }) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'error') this.workerError = m.message ?? 'unknown worker error';
      });
      w.once('error', reject);
      w.once('exit', (code) => {
        this.exited[threadIndex] = code;
        reject(new Error(`histogram worker exited with code ${code}`));
      });
    });
  }

  setActiveFeatures(active: Int32Array): void {
    this.active.set(active);
    this.nActive = active.length;
  }

  runBatch(batch: NodeBatch): (SplitCandidate | null)[] {
    const b = this.buffers;
    const active = this.active.subarray(0, this.nActive);
    let work = 0;
    for (const t of batch.builds) work += t.rows * this.nActive;
    for (const p of batch.partitions) work += p.end - p.start;
    work += (batch.searches.length + batch.subtractions.length) * (b.histStride >> 1);
    const all = this.nActive === b.nFeatures;
    if (this.threads === 1 || work < this.minParallelWork) {
      runNodeBatchShare(batch, b, this.featureBins, this.constraints, { active, j0: 0, j1: this.nActive, all }, this.results, 0, 1, noBarrier);
      return mergeSearchResults(batch, this.results, 1, b, this.featureBins, this.constraints);
    }
    const ctrl = this.ctrl;
    batch.mode = batch.partitions.length >= NODE_MODE_PARTS_PER_THREAD * this.threads ? 'nodes' : 'features';
    assignPartitionOwners(batch.partitions, this.threads, batch.mode === 'nodes' ? nodeCosts(batch, this.nActive, b.histStride >> 1) : undefined);
    encodeNodeBatch(batch, this.batchBuffer, this.leftBinsPool);
    // 'nodes' batches give each thread every feature of its own nodes: feature shares only matter for 'features'.
    if (batch.mode === 'features') balanceFeatureShares(batch, active, this.nActive, b.featureBinCount, this.threads, this.bounds);
    ctrl[CTRL.N_ACTIVE] = this.nActive;
    ctrl[CTRL.CMD] = CMD_BUILD;
    Atomics.store(ctrl, CTRL.DONE, 0);
    Atomics.store(ctrl, CTRL.PARTITIONED, 0);
    Atomics.add(ctrl, CTRL.GEN, 1);
    Atomics.notify(ctrl, CTRL.GEN);
    runNodeBatchShare(
      batch,
      b,
      this.featureBins,
      this.constraints,
      { active, j0: this.bounds[0], j1: this.bounds[1], all },
      this.results,
      0,
      this.threads,
      this.barrier,
    );
    const expected = this.threads - 1;
    const deadline = Date.now() + 120_000;
    for (;;) {
      let done = Atomics.load(ctrl, CTRL.DONE);
      if (done >= expected) break;
      // The workers' share usually ends within a millisecond of ours: spin that long before sleeping (see SPIN_MS).
      done = spinWhileEqual(ctrl, CTRL.DONE, done, SPIN_MS);
      if (done >= expected) break;
      Atomics.wait(ctrl, CTRL.DONE, done, 50);
      if (Date.now() > deadline) {
        // A watchdog, not a timeout for slow work: a batch takes milliseconds to seconds even on 10M rows.
        throw new AppraiseError('INTERNAL', 'histogram workers stopped responding', {
          details: { ctrl: Array.from(ctrl), exited: this.exited, workerError: this.workerError },
        });
      }
    }
    if (Atomics.load(ctrl, CTRL.ERROR) !== 0) throw new AppraiseError('INTERNAL', `histogram worker failed: ${this.workerError ?? 'see worker log'}`);
    return mergeSearchResults(batch, this.results, this.threads, b, this.featureBins, this.constraints);
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
