import type { FeatureBins } from './feature-binning.js';
import type { TrainingBuffers } from './node-batch-runner.js';
import { buildHistograms, subtractHistogram, type HistogramTask } from './histogram.js';
import { findBestSplit, type SplitConstraints } from './split-finder.js';

/**
 * One step of tree growth that threads can share by feature: build some node histograms, derive siblings by
 * subtraction, then search the best split of some nodes. Each thread does all three for the features it owns, so no
 * barrier is needed between the phases, and only a (gain, feature) pair per node and thread comes back.
 */
export interface NodeBatch {
  builds: HistogramTask[];
  /** slot `target` (holding the parent's histogram) becomes parent − slot `small`. */
  subtractions: { target: number; small: number }[];
  searches: SplitSearch[];
}

export interface SplitSearch {
  slot: number;
  sumGrad: number;
  sumHess: number;
  count: number;
}

/** Runs a thread's share (active features j0..j1) of a batch; writes [gain, feature] per search to results[2 × (i × threads + t)]. */
export function runNodeBatchShare(
  batch: NodeBatch,
  b: TrainingBuffers,
  featureBins: readonly FeatureBins[],
  constraints: SplitConstraints,
  active: Int32Array,
  j0: number,
  j1: number,
  results: Float64Array,
  t: number,
  threads: number,
): void {
  buildHistograms(batch.builds, b.bins, b.nFeatures, b.rowIndex, b.grad, b.hess, b.hist, b.histStride, b.featureOffset, b.featureBinCount, active, j0, j1);
  const mine = active.subarray(j0, j1);
  for (const s of batch.subtractions) {
    const target = s.target * b.histStride;
    subtractHistogram(b.hist, target, s.small * b.histStride, target, b.featureOffset, b.featureBinCount, mine);
  }
  batch.searches.forEach((s, i) => {
    const c = mine.length > 0 ? findBestSplit(b.hist, s.slot * b.histStride, featureBins, b.featureOffset, mine, s.sumGrad, s.sumHess, s.count, constraints) : null;
    const o = 2 * (i * threads + t);
    results[o] = c ? c.gain : -Infinity;
    results[o + 1] = c ? c.feature : -1;
  });
}

/**
 * Serialises a batch into shared Float64 memory for the workers: [nBuilds, nSubs, nSearches, builds…, subs…, searches…].
 * Returns the number of doubles written.
 */
export function encodeNodeBatch(batch: NodeBatch, out: Float64Array): number {
  let o = 0;
  out[o++] = batch.builds.length;
  out[o++] = batch.subtractions.length;
  out[o++] = batch.searches.length;
  for (const t of batch.builds) {
    out[o++] = t.start;
    out[o++] = t.end;
    out[o++] = t.slot;
  }
  for (const s of batch.subtractions) {
    out[o++] = s.target;
    out[o++] = s.small;
  }
  for (const s of batch.searches) {
    out[o++] = s.slot;
    out[o++] = s.sumGrad;
    out[o++] = s.sumHess;
    out[o++] = s.count;
  }
  return o;
}

export function decodeNodeBatch(a: Float64Array): NodeBatch {
  let o = 3;
  const builds: HistogramTask[] = [];
  for (let i = 0; i < a[0]; i++, o += 3) builds.push({ start: a[o], end: a[o + 1], slot: a[o + 2] });
  const subtractions: NodeBatch['subtractions'] = [];
  for (let i = 0; i < a[1]; i++, o += 2) subtractions.push({ target: a[o], small: a[o + 1] });
  const searches: SplitSearch[] = [];
  for (let i = 0; i < a[2]; i++, o += 4) searches.push({ slot: a[o], sumGrad: a[o + 1], sumHess: a[o + 2], count: a[o + 3] });
  return { builds, subtractions, searches };
}

/** Doubles needed to encode a batch touching at most nSlots nodes. */
export const nodeBatchCapacity = (nSlots: number) => 3 + nSlots * (3 + 2 + 4);
