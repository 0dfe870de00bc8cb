import type { FeatureBins } from './feature-binning.js';
import type { TrainingBuffers } from './node-batch-runner.js';
import { buildHistograms, subtractHistogram, type FeatureRange, type HistogramTask } from './histogram.js';
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

/** Runs a thread's share (range) of a batch; writes [gain, feature] per search to results[2 × (i × threads + t)]. */
export function runNodeBatchShare(
  batch: NodeBatch,
  b: TrainingBuffers,
  featureBins: readonly FeatureBins[],
  constraints: SplitConstraints,
  range: FeatureRange,
  results: Float64Array,
  t: number,
  threads: number,
): void {
  buildHistograms(batch.builds, b.gbins, b.nFeatures, b.rowIndex, b.gh, b.hist, b.histStride, b.featureOffset, b.featureBinCount, range);
  for (const s of batch.subtractions) {
    const target = s.target * b.histStride;
    subtractHistogram(b.hist, target, s.small * b.histStride, target, b.featureOffset, b.featureBinCount, range);
  }
  const mine = range.active.subarray(range.j0, range.j1);
  for (let i = 0; i < batch.searches.length; i++) {
    const s = batch.searches[i];
    const c = mine.length > 0 ? findBestSplit(b.hist, s.slot * b.histStride, featureBins, b.featureOffset, mine, s.sumGrad, s.sumHess, s.count, constraints) : null;
    const o = 2 * (i * threads + t);
    results[o] = c ? c.gain : -Infinity;
    results[o + 1] = c ? c.feature : -1;
  }
}

/**
 * Cuts the active features into `threads` contiguous shares of about equal cost, writing the bounds to
 * bounds[0..threads]. Histogram building costs about the same per feature (one update per row), while clearing,
 * subtracting and searching cost per bin — and bin counts differ a lot (a flag has 2 bins, a coordinate 255) — so
 * equal feature counts left one thread doing twice the other's work. Results do not depend on the cut.
 */
export function balanceFeatureShares(batch: NodeBatch, active: Int32Array, nActive: number, featureBinCount: Int32Array, threads: number, bounds: Int32Array): void {
  let rows = 0;
  for (const t of batch.builds) rows += t.end - t.start;
  // A bin searched (or cleared/subtracted) costs a few row updates; the factor was fitted on KC profiles.
  const perBin = BIN_COST * (batch.searches.length + batch.subtractions.length + batch.builds.length);
  let total = 0;
  for (let j = 0; j < nActive; j++) total += rows + perBin * featureBinCount[active[j]];
  bounds[0] = 0;
  let j = 0;
  let acc = 0;
  for (let t = 1; t < threads; t++) {
    const goal = (total * t) / threads;
    while (j < nActive) {
      const w = rows + perBin * featureBinCount[active[j]];
      // Take the feature if that brings the share closer to its goal than stopping before it.
      if (acc + w / 2 > goal) break;
      acc += w;
      j++;
    }
    bounds[t] = j;
  }
  bounds[threads] = nActive;
}

const BIN_COST = 3;

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
  // `| 0` matters: values read from a Float64Array are doubles, and a double loop bound or index makes V8 compile
  // the histogram loop with floating-point indices — measured 2.5× slower in the workers than on the main thread.
  let o = 3;
  const builds: HistogramTask[] = [];
  for (let i = 0; i < a[0]; i++, o += 3) builds.push({ start: a[o] | 0, end: a[o + 1] | 0, slot: a[o + 2] | 0 });
  const subtractions: NodeBatch['subtractions'] = [];
  for (let i = 0; i < a[1]; i++, o += 2) subtractions.push({ target: a[o] | 0, small: a[o + 1] | 0 });
  const searches: SplitSearch[] = [];
  for (let i = 0; i < a[2]; i++, o += 4) searches.push({ slot: a[o] | 0, sumGrad: a[o + 1], sumHess: a[o + 2], count: a[o + 3] | 0 });
  return { builds, subtractions, searches };
}

/** Doubles needed to encode a batch touching at most nSlots nodes. */
export const nodeBatchCapacity = (nSlots: number) => 3 + nSlots * (3 + 2 + 4);
