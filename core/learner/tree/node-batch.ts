import type { FeatureBins } from '../data/feature-binning.js';
import type { TrainingBuffers } from './training-buffers.js';
import { buildHistograms, subtractHistogram, type FeatureRange, type HistogramTask, type PackedGradients } from './histogram.js';
import { findBestSplit, type SplitConstraints } from './split-finder.js';
import { partitionRows, type PartitionTask } from './row-partition.js';

/**
 * One step of tree growth that threads share: split some nodes' rows between their children (partitions, shared by
 * node), then — after one barrier — build some node histograms, derive siblings by subtraction and search the best
 * split of some nodes (shared by feature). Each thread does the last three for the features it owns, so no barrier
 * is needed between them, and only a (gain, feature) pair per node and thread comes back.
 */
export interface NodeBatch {
  partitions: PartitionTask[];
  builds: BuildTask[];
  /** slot `target` (holding the parent's histogram) becomes parent − slot `small`; `part` as in BuildTask. */
  subtractions: { target: number; small: number; part: number }[];
  searches: SplitSearch[];
  /**
   * How threads share the batch (set by the runner). 'features': every thread partitions the nodes it owns, waits
   * at the barrier, then does every histogram and search over its own features. 'nodes': each thread does everything
   * for the partitions it owns (and the builds, subtractions and searches that refer to them) over all features —
   * no barrier, and the rows a thread partitions stay in its cache for the histograms it builds from them. 'nodes'
   * pays once a level has a few nodes per thread; the root and the first levels use 'features'.
   */
  mode: 'features' | 'nodes';
  /** Set when the tree is grown on quantised gradients: the histograms are built from the packed values. */
  packed?: PackedGradients | null;
}

/**
 * A histogram to build. Rows are rowIndex[start..end), or — when `part` >= 0 — one side of partition `part` of this
 * batch (side 0 = left, 1 = right), whose boundary is known only once the partition has run.
 */
export interface BuildTask extends HistogramTask {
  part: number;
  side: number;
  /** Expected row count (for balancing work between threads only). */
  rows: number;
}

export interface SplitSearch {
  slot: number;
  sumGrad: number;
  sumHess: number;
  /** Row count; taken from the partition result when `part` >= 0. */
  count: number;
  part: number;
  side: number;
}

/**
 * Runs a thread's share of a batch: its partitions (owner === t, boundaries to mids[i]); then, in 'features' mode,
 * `barrier()` (every thread's partitions done) and every histogram, subtraction and search over `range`; in 'nodes'
 * mode, only those of its own partitions, over all active features. Writes [gain, feature] per search to
 * results[2 × (i × threads + t)] (-Infinity for searches that are not its own).
 */
export function runNodeBatchShare(
  batch: NodeBatch,
  b: TrainingBuffers,
  featureBins: readonly FeatureBins[],
  constraints: SplitConstraints,
  range: FeatureRange,
  results: Float64Array,
  t: number,
  threads: number,
  barrier: () => void,
): void {
  const parts = batch.partitions;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.owner === t || threads === 1)
      b.mids[i] = partitionRows(b.binsByFeature, b.nRows, b.rowIndex, b.scratch, b.gh, b.ghScratch, p.start, p.end, p.feature, p.leftBins);
  }
  const byNode = batch.mode === 'nodes' && threads > 1;
  const mine = byNode ? (part: number) => part >= 0 && parts[part].owner === t : () => true;
  const r: FeatureRange = byNode ? { active: range.active, j0: 0, j1: range.active.length, all: range.all } : range;
  if (!byNode && parts.length > 0 && threads > 1) barrier();
  resolveSides(batch, b.mids, (part) => part >= 0 && mine(part));
  const builds = byNode ? batch.builds.filter((x) => mine(x.part)) : batch.builds;
  buildHistograms(builds, b.gbins, b.nFeatures, b.rowIndex, b.gh, b.hist, b.histStride, b.featureOffset, b.featureBinCount, r, batch.packed ?? null);
  for (const s of batch.subtractions) {
    if (!mine(s.part)) continue;
    const target = s.target * b.histStride;
    subtractHistogram(b.hist, target, s.small * b.histStride, target, b.featureOffset, b.featureBinCount, r);
  }
  const features = r.active.subarray(r.j0, r.j1);
  for (let i = 0; i < batch.searches.length; i++) {
    const s = batch.searches[i];
    const c =
      mine(s.part) && features.length > 0
        ? findBestSplit(b.hist, s.slot * b.histStride, featureBins, b.featureOffset, features, s.sumGrad, s.sumHess, s.count, constraints)
        : null;
    const o = 2 * (i * threads + t);
    results[o] = c ? c.gain : -Infinity;
    results[o + 1] = c ? c.feature : -1;
  }
}

/** Fills in the row ranges and counts that refer to partition results. */
function resolveSides(batch: NodeBatch, mids: Int32Array, which: (part: number) => boolean): void {
  const parts = batch.partitions;
  for (const x of batch.builds) {
    if (!which(x.part)) continue;
    const p = parts[x.part];
    const mid = mids[x.part];
    x.start = x.side === 0 ? p.start : mid;
    x.end = x.side === 0 ? mid : p.end;
  }
  for (const s of batch.searches) {
    if (!which(s.part)) continue;
    const p = parts[s.part];
    const mid = mids[s.part];
    s.count = s.side === 0 ? mid - p.start : p.end - mid;
  }
}

/**
 * Cuts the active features into `threads` contiguous shares of about equal cost, writing the bounds to
 * bounds[0..threads]. Histogram building costs about the same per feature (one update per row), while clearing,
 * subtracting and searching cost per bin — and bin counts differ a lot (a flag has 2 bins, a coordinate 255) — so
 * equal feature counts left one thread doing twice the other's work. Results do not depend on the cut.
 */
export function balanceFeatureShares(
  batch: NodeBatch,
  active: Int32Array,
  nActive: number,
  featureBinCount: Int32Array,
  threads: number,
  bounds: Int32Array,
): void {
  let rows = 0;
  for (const t of batch.builds) rows += t.rows;
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

/** Largest leftBins a partition task can carry: 255 value bins + the missing bin. */
export const LEFT_BINS_STRIDE = 256;

/** Doubles before the first partition in an encoded batch. */
const HEADER = 7;

/**
 * Serialises a batch into shared memory for the workers: numbers into `out` as
 * [nParts, nBuilds, nSubs, nSearches, mode, gradient scale, packBase (0 = not packed), parts…, builds…, subs…,
 * searches…], each partition's leftBins into
 * leftBinsPool at i × LEFT_BINS_STRIDE. Returns the number of doubles written.
 */
export function encodeNodeBatch(batch: NodeBatch, out: Float64Array, leftBinsPool: Uint8Array): number {
  let o = 0;
  out[o++] = batch.partitions.length;
  out[o++] = batch.builds.length;
  out[o++] = batch.subtractions.length;
  out[o++] = batch.searches.length;
  out[o++] = batch.mode === 'nodes' ? 1 : 0;
  out[o++] = batch.packed ? batch.packed.scale : 0;
  out[o++] = batch.packed ? batch.packed.packBase : 0;
  batch.partitions.forEach((p, i) => {
    out[o++] = p.start;
    out[o++] = p.end;
    out[o++] = p.feature;
    out[o++] = p.owner;
    out[o++] = p.leftBins.length;
    leftBinsPool.set(p.leftBins, i * LEFT_BINS_STRIDE);
  });
  for (const t of batch.builds) {
    out[o++] = t.start;
    out[o++] = t.end;
    out[o++] = t.slot;
    out[o++] = t.part;
    out[o++] = t.side;
    out[o++] = t.rows;
  }
  for (const s of batch.subtractions) {
    out[o++] = s.target;
    out[o++] = s.small;
    out[o++] = s.part;
  }
  for (const s of batch.searches) {
    out[o++] = s.slot;
    out[o++] = s.sumGrad;
    out[o++] = s.sumHess;
    out[o++] = s.count;
    out[o++] = s.part;
    out[o++] = s.side;
  }
  return o;
}

export function decodeNodeBatch(a: Float64Array, leftBinsPool: Uint8Array): NodeBatch {
  // `| 0` matters: values read from a Float64Array are doubles, and a double loop bound or index makes V8 compile
  // the histogram loop with floating-point indices — measured 2.5× slower in the workers than on the main thread.
  let o = HEADER;
  const partitions: PartitionTask[] = [];
  for (let i = 0; i < a[0]; i++, o += 5) {
    const from = i * LEFT_BINS_STRIDE;
    partitions.push({
      start: a[o] | 0,
      end: a[o + 1] | 0,
      feature: a[o + 2] | 0,
      owner: a[o + 3] | 0,
      leftBins: leftBinsPool.subarray(from, from + (a[o + 4] | 0)),
    });
  }
  const builds: BuildTask[] = [];
  for (let i = 0; i < a[1]; i++, o += 6)
    builds.push({ start: a[o] | 0, end: a[o + 1] | 0, slot: a[o + 2] | 0, part: a[o + 3] | 0, side: a[o + 4] | 0, rows: a[o + 5] });
  const subtractions: NodeBatch['subtractions'] = [];
  for (let i = 0; i < a[2]; i++, o += 3) subtractions.push({ target: a[o] | 0, small: a[o + 1] | 0, part: a[o + 2] | 0 });
  const searches: SplitSearch[] = [];
  for (let i = 0; i < a[3]; i++, o += 6) {
    searches.push({ slot: a[o] | 0, sumGrad: a[o + 1], sumHess: a[o + 2], count: a[o + 3] | 0, part: a[o + 4] | 0, side: a[o + 5] | 0 });
  }
  const mode = a[4] === 1 ? 'nodes' : 'features';
  return a[6] > 0
    ? { partitions, builds, subtractions, searches, mode, packed: { scale: a[5], packBase: a[6] } }
    : { partitions, builds, subtractions, searches, mode };
}

/** Doubles needed to encode a batch touching at most nSlots nodes (partitions: at most one per slot as well). */
export const nodeBatchCapacity = (nSlots: number) => HEADER + nSlots * (5 + 6 + 3 + 6);
