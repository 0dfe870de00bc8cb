import type { FeatureBins } from './feature-binning.js';
import { findBestSplit, type SplitCandidate, type SplitConstraints } from './split-finder.js';
import { runNodeBatchShare, type NodeBatch } from './node-batch.js';
import type { FeatureRange, GlobalBins } from './histogram.js';

/**
 * Memory the tree grower works in. With worker threads these views sit on SharedArrayBuffers so the workers read
 * the bins, gradients and row partition and write histograms without copying.
 */
export interface TrainingBuffers {
  /** Binned training matrix, row-major Uint8 (for predicting with bin-space trees). */
  bins: Uint8Array;
  /** The same matrix feature-major (feature f's column at f × nRows): the row partition reads one column. */
  binsByFeature: Uint8Array;
  /** The same matrix as global histogram indices featureOffset[f] + bin, row-major: what the histogram loop reads. */
  gbins: GlobalBins;
  nRows: number;
  nFeatures: number;
  /** Gradient and hessian of row rowIndex[k] at [2k, 2k + 1] (node order: the partition moves them with the rows). */
  gh: Float64Array;
  /** Partition scratch for gh, as long as gh. */
  ghScratch: Float64Array;
  /** Row partition: each node owns a contiguous range of this array. */
  rowIndex: Int32Array;
  /** Partition scratch, as long as rowIndex (a node uses only its own range, so threads can share it). */
  scratch: Int32Array;
  /** Per batch: the boundary (first right row) of each partition task. */
  mids: Int32Array;
  /** Histogram pool: `nSlots` histograms of `histStride` doubles each. */
  hist: Float64Array;
  histStride: number;
  nSlots: number;
  featureOffset: Int32Array;
  /** Bins per feature including the missing bin. */
  featureBinCount: Int32Array;
}

/**
 * Runs node batches (histograms, subtractions, split searches) for the tree grower. `runBatch` is synchronous: the
 * grower needs the result before its next decision, and the thread-pool implementation blocks on Atomics rather
 * than awaiting messages (far cheaper per batch). The owner (the training driver) calls `close` exactly once, also
 * on failure.
 */
export interface NodeBatchRunner {
  readonly buffers: TrainingBuffers;
  readonly threads: number;
  /** Features the current tree may use (column subsampling), in increasing order. */
  setActiveFeatures(active: Int32Array): void;
  /** Runs a batch: partitions (their boundaries land in buffers.mids), histograms, searches. Returns the best split
   *  of each search in batch order (null = no admissible split). */
  runBatch(batch: NodeBatch): (SplitCandidate | null)[];
  close(): Promise<void>;
}

export interface BufferShape {
  bins: Uint8Array;
  nRows: number;
  nFeatures: number;
  featureOffset: Int32Array;
  featureBinCount: Int32Array;
  totalBins: number;
  nSlots: number;
}

/** Allocates the training buffers, on SharedArrayBuffers when `shared` (copying the bins once). */
export function allocateBuffers(s: BufferShape, shared: boolean): TrainingBuffers {
  const alloc = (bytes: number) => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const { nRows, nFeatures, featureOffset } = s;
  let bins = s.bins;
  if (shared && !(s.bins.buffer instanceof SharedArrayBuffer)) {
    bins = new Uint8Array(alloc(s.bins.length));
    bins.set(s.bins);
  }
  const binsByFeature = new Uint8Array(alloc(nRows * nFeatures));
  const gbins = s.totalBins <= 0x10000 ? new Uint16Array(alloc(nRows * nFeatures * 2)) : new Uint32Array(alloc(nRows * nFeatures * 4));
  for (let r = 0, p = 0; r < nRows; r++) {
    for (let f = 0; f < nFeatures; f++, p++) {
      const bin = bins[p];
      binsByFeature[f * nRows + r] = bin;
      gbins[p] = featureOffset[f] + bin;
    }
  }
  const histStride = s.totalBins * 2;
  return {
    bins,
    binsByFeature,
    gbins,
    nRows,
    nFeatures,
    gh: new Float64Array(alloc(nRows * 16)),
    ghScratch: new Float64Array(alloc(nRows * 16)),
    rowIndex: new Int32Array(alloc(nRows * 4)),
    scratch: new Int32Array(alloc(nRows * 4)),
    mids: new Int32Array(alloc(s.nSlots * 4)),
    hist: new Float64Array(alloc(histStride * s.nSlots * 8)),
    histStride,
    nSlots: s.nSlots,
    featureOffset,
    featureBinCount: s.featureBinCount,
  };
}

/** The range covering all of `active` (one thread's view), flagged when it is every feature in order. */
export function fullRange(active: Int32Array, nFeatures: number): FeatureRange {
  return { active, j0: 0, j1: active.length, all: active.length === nFeatures };
}

/**
 * Turns per-thread (gain, feature) winners into full split candidates. The winner is the highest gain, ties to the
 * lowest feature — exactly what one thread scanning all features in order would pick — and its details (bins going
 * left, child sums) are recomputed by scanning that one feature again, which is cheap.
 */
export function mergeSearchResults(
  batch: NodeBatch,
  results: Float64Array,
  threads: number,
  b: TrainingBuffers,
  featureBins: readonly FeatureBins[],
  constraints: SplitConstraints,
): (SplitCandidate | null)[] {
  return batch.searches.map((s, i) => {
    let bestGain = -Infinity;
    let bestFeature = -1;
    for (let t = 0; t < threads; t++) {
      const o = 2 * (i * threads + t);
      if (results[o + 1] >= 0 && results[o] > bestGain) {
        bestGain = results[o];
        bestFeature = results[o + 1];
      }
    }
    if (bestFeature < 0) return null;
    return findBestSplit(b.hist, s.slot * b.histStride, featureBins, b.featureOffset, Int32Array.of(bestFeature), s.sumGrad, s.sumHess, s.count, constraints);
  });
}

const noBarrier = () => {};

/** Everything on the calling thread (threads = 1, or tables too small for threads to pay). */
export class SingleThreadBatchRunner implements NodeBatchRunner {
  readonly threads = 1;
  private range: FeatureRange = { active: new Int32Array(0), j0: 0, j1: 0, all: false };
  private results = new Float64Array(0);

  constructor(
    readonly buffers: TrainingBuffers,
    private readonly featureBins: readonly FeatureBins[],
    private readonly constraints: SplitConstraints,
  ) {}

  setActiveFeatures(active: Int32Array): void {
    this.range = fullRange(active, this.buffers.nFeatures);
  }

  runBatch(batch: NodeBatch): (SplitCandidate | null)[] {
    if (this.results.length < 2 * batch.searches.length) this.results = new Float64Array(2 * batch.searches.length);
    runNodeBatchShare(batch, this.buffers, this.featureBins, this.constraints, this.range, this.results, 0, 1, noBarrier);
    return mergeSearchResults(batch, this.results, 1, this.buffers, this.featureBins, this.constraints);
  }

  async close(): Promise<void> {}
}
