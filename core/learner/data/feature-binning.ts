import type { FeatureKind } from '../model/tree-model.js';
import type { TrainingData } from './training-data.js';
import { SeededRandom } from '../../common/seeded-random.js';

/** Largest finite float32; used as the threshold of a "values left, missing right" split (JSON has no Infinity). */
export const MAX_FLOAT32 = 3.4028234663852886e38;

/** Values sampled per feature to place quantile bin edges (as scikit-learn: exact enough, bounded cost). */
const BINNING_SAMPLE = 200_000;

/**
 * How one feature's raw values map to bins 0..nValueBins-1, plus the missing bin at index `nValueBins`.
 * Bin indices fit a Uint8 (nValueBins <= 255).
 */
export interface FeatureBins {
  kind: FeatureKind;
  nValueBins: number;
  /** Index of the missing-value bin (= nValueBins). */
  missingBin: number;
  /**
   * Numeric only: `thresholds[b]` (float32-representable) separates bin b from b+1; a float32 value x lands in bin b
   * exactly when thresholds[b-1] < x <= thresholds[b], so the tree test `x <= thresholds[b]` reproduces "bin <= b".
   */
  thresholds: Float64Array;
  /** Categorical only: category code of each value bin, or -1 for the "other" bin that pools rare codes. */
  binCategory: Int32Array;
  /** Categorical only: bin of each category code 0..categoryCount-1. */
  categoryBin: Uint8Array;
}

export interface BinningOptions {
  /** Value bins per feature, 2..255 (the missing bin comes on top). */
  maxBins: number;
  seed: number;
}

/** Chooses bin edges for every feature from the training rows. */
export function fitFeatureBins(d: TrainingData, opts: BinningOptions): FeatureBins[] {
  const out: FeatureBins[] = [];
  for (let f = 0; f < d.nFeatures; f++) {
    out.push(d.featureKinds[f] === 'categorical' ? fitCategoricalBins(d, f, d.categoryCounts[f], opts.maxBins) : fitNumericBins(d, f, opts));
  }
  return out;
}

function fitNumericBins(d: TrainingData, f: number, opts: BinningOptions): FeatureBins {
  const { nRows, nFeatures, X } = d;
  // Subsample rows (seeded per feature) when the table is large; quantiles of 200k values are plenty for 255 bins.
  const rows = nRows > BINNING_SAMPLE ? new SeededRandom(opts.seed * 7919 + f).sampleSorted(nRows, BINNING_SAMPLE) : null;
  const n = rows ? rows.length : nRows;
  const vals = new Float32Array(n);
  let m = 0;
  for (let k = 0; k < n; k++) {
    const x = X[(rows ? rows[k] : k) * nFeatures + f];
    if (!Number.isNaN(x)) vals[m++] = x;
  }
  const sorted = vals.subarray(0, m).sort();
  // Distinct values and their counts.
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < m; i++) {
    if (distinct.length > 0 && sorted[i] === distinct[distinct.length - 1]) counts[counts.length - 1]++;
    else {
      distinct.push(sorted[i]);
      counts.push(1);
    }
  }
  const cuts: number[] = []; // index i: cut between distinct[i] and distinct[i+1]
  if (distinct.length <= opts.maxBins) {
    for (let i = 0; i + 1 < distinct.length; i++) cuts.push(i);
  } else {
    // Greedy equal-frequency cuts on distinct values: a heavy tie never straddles two bins, and a value that alone
    // exceeds a bin's quota gets its own bin.
    const perBin = m / opts.maxBins;
    let cum = 0;
    let next = perBin;
    for (let i = 0; i + 1 < distinct.length && cuts.length < opts.maxBins - 1; i++) {
      cum += counts[i];
      if (cum >= next) {
        cuts.push(i);
        next = cum + (m - cum) / (opts.maxBins - cuts.length);
      }
    }
  }
  const thresholds = new Float64Array(cuts.length);
  for (let j = 0; j < cuts.length; j++) thresholds[j] = float32Between(distinct[cuts[j]], distinct[cuts[j] + 1]);
  const nValueBins = Math.max(1, cuts.length + 1);
  return { kind: 'numeric', nValueBins, missingBin: nValueBins, thresholds, binCategory: new Int32Array(0), categoryBin: new Uint8Array(0) };
}

/**
 * A float32 t with a <= t < b (a < b both float32): the midpoint when it rounds inside, else a itself.
 * Midpoints generalise better to unseen values; the guarantee keeps `x <= t` equal to "x <= a" for float32 inputs.
 */
export function float32Between(a: number, b: number): number {
  const mid = Math.fround(a + (b - a) / 2);
  return mid >= a && mid < b ? mid : a;
}

function fitCategoricalBins(d: TrainingData, f: number, categoryCount: number, maxBins: number): FeatureBins {
  const { nRows, nFeatures, X } = d;
  const categoryBin = new Uint8Array(categoryCount);
  if (categoryCount <= maxBins) {
    const binCategory = new Int32Array(categoryCount);
    for (let c = 0; c < categoryCount; c++) {
      binCategory[c] = c;
      categoryBin[c] = c;
    }
    return { kind: 'categorical', nValueBins: categoryCount, missingBin: categoryCount, thresholds: new Float64Array(0), binCategory, categoryBin };
  }
  // Too many codes for a Uint8 bin: keep the maxBins-1 most frequent (ties by code), pool the rest in "other".
  const freq = new Float64Array(categoryCount);
  for (let i = 0; i < nRows; i++) {
    const x = X[i * nFeatures + f];
    if (!Number.isNaN(x)) freq[x]++;
  }
  const order = Array.from({ length: categoryCount }, (_, c) => c).sort((a, b) => freq[b] - freq[a] || a - b);
  const kept = order.slice(0, maxBins - 1).sort((a, b) => a - b);
  const other = maxBins - 1;
  categoryBin.fill(other);
  const binCategory = new Int32Array(maxBins);
  kept.forEach((c, b) => {
    binCategory[b] = c;
    categoryBin[c] = b;
  });
  binCategory[other] = -1;
  return { kind: 'categorical', nValueBins: maxBins, missingBin: maxBins, thresholds: new Float64Array(0), binCategory, categoryBin };
}

/** Bin index of one raw value. */
export function binOf(fb: FeatureBins, x: number): number {
  if (Number.isNaN(x)) return fb.missingBin;
  if (fb.kind === 'categorical') {
    // Codes outside the training range (possible for validation data) count as missing.
    return x >= 0 && x < fb.categoryBin.length && Number.isInteger(x) ? fb.categoryBin[x] : fb.missingBin;
  }
  // Lower bound: number of thresholds strictly below x.
  const t = fb.thresholds;
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The binned matrix, row-major Uint8 (row r, feature f at r × nFeatures + f): one row's bins sit in one cache line,
 * which is what the histogram loop reads. `target` lets the caller put it in a SharedArrayBuffer for workers.
 */
export function binMatrix(d: Pick<TrainingData, 'nRows' | 'nFeatures' | 'X'>, bins: FeatureBins[], target?: Uint8Array): Uint8Array {
  const { nRows, nFeatures, X } = d;
  const out = target ?? new Uint8Array(nRows * nFeatures);
  for (let f = 0; f < nFeatures; f++) {
    const fb = bins[f];
    for (let i = 0, p = f; i < nRows; i++, p += nFeatures) out[p] = binOf(fb, X[p]);
  }
  return out;
}

/** Offsets of each feature's bins in a histogram (each feature has nValueBins + 1 slots). */
export function histogramLayout(bins: FeatureBins[]): { featureOffset: Int32Array; totalBins: number } {
  const featureOffset = new Int32Array(bins.length);
  let total = 0;
  for (let f = 0; f < bins.length; f++) {
    featureOffset[f] = total;
    total += bins[f].nValueBins + 1;
  }
  return { featureOffset, totalBins: total };
}
