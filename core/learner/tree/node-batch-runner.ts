import type { FeatureBins } from '../data/feature-binning.js';
import { findBestSplit, type SplitCandidate, type SplitConstraints } from './split-finder.js';
import { runNodeBatchShare, type NodeBatch } from './node-batch.js';
import type { FeatureRange } from './histogram.js';
import type { TrainingBuffers } from './training-buffers.js';

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
