/**
 * Gradient/hessian histograms: the hot loop of training. A histogram holds, for every feature f and bin b,
 * the sums of gradients and hessians of a node's rows, interleaved as [g, h] at 2 × (featureOffset[f] + b) so one
 * update touches one cache line. These functions are shared by the main thread and the histogram workers.
 */

/** One node's histogram to build: rows rowIndex[start..end) into histogram slot `slot` of the pool. */
export interface HistogramTask {
  start: number;
  end: number;
  slot: number;
}

/**
 * Adds rows rowIndex[start..end) into the histogram at `base`, for active features activeFeatures[j0..j1).
 * The caller zeroes the region first (see clearHistogram).
 */
export function accumulateHistogram(
  bins: Uint8Array,
  nFeatures: number,
  rowIndex: Int32Array,
  start: number,
  end: number,
  grad: Float64Array,
  hess: Float64Array,
  hist: Float64Array,
  base: number,
  featureOffset: Int32Array,
  activeFeatures: Int32Array,
  j0: number,
  j1: number,
): void {
  // Unrolled by four features: independent scatter-adds in flight hide their latency (measured ~30 % faster).
  const j4 = j0 + ((j1 - j0) & ~3);
  for (let k = start; k < end; k++) {
    const r = rowIndex[k];
    const g = grad[r];
    const h = hess[r];
    const rowBase = r * nFeatures;
    let j = j0;
    for (; j < j4; j += 4) {
      const f0 = activeFeatures[j];
      const f1 = activeFeatures[j + 1];
      const f2 = activeFeatures[j + 2];
      const f3 = activeFeatures[j + 3];
      const i0 = base + ((featureOffset[f0] + bins[rowBase + f0]) << 1);
      const i1 = base + ((featureOffset[f1] + bins[rowBase + f1]) << 1);
      const i2 = base + ((featureOffset[f2] + bins[rowBase + f2]) << 1);
      const i3 = base + ((featureOffset[f3] + bins[rowBase + f3]) << 1);
      hist[i0] += g;
      hist[i0 + 1] += h;
      hist[i1] += g;
      hist[i1 + 1] += h;
      hist[i2] += g;
      hist[i2 + 1] += h;
      hist[i3] += g;
      hist[i3 + 1] += h;
    }
    for (; j < j1; j++) {
      const f = activeFeatures[j];
      const i = base + ((featureOffset[f] + bins[rowBase + f]) << 1);
      hist[i] += g;
      hist[i + 1] += h;
    }
  }
}

/** Zeroes the bins of active features activeFeatures[j0..j1) in the histogram at `base`. */
export function clearHistogram(
  hist: Float64Array,
  base: number,
  featureOffset: Int32Array,
  featureBinCount: Int32Array,
  activeFeatures: Int32Array,
  j0: number,
  j1: number,
): void {
  for (let j = j0; j < j1; j++) {
    const f = activeFeatures[j];
    const from = base + (featureOffset[f] << 1);
    hist.fill(0, from, from + (featureBinCount[f] << 1));
  }
}

/** sibling = parent − child over the active features (histogram subtraction: build the smaller child only). */
export function subtractHistogram(
  hist: Float64Array,
  parentBase: number,
  childBase: number,
  outBase: number,
  featureOffset: Int32Array,
  featureBinCount: Int32Array,
  activeFeatures: Int32Array,
): void {
  for (let j = 0; j < activeFeatures.length; j++) {
    const f = activeFeatures[j];
    const o = featureOffset[f] << 1;
    const n = featureBinCount[f] << 1;
    for (let i = 0; i < n; i++) hist[outBase + o + i] = hist[parentBase + o + i] - hist[childBase + o + i];
  }
}

/**
 * Builds a batch of node histograms over the features a thread owns (activeFeatures[j0..j1)). Splitting work by
 * feature, not by row, means every histogram entry is summed in the same order whatever the thread count, so
 * training is bit-for-bit identical with 1 or N threads.
 */
export function buildHistograms(
  tasks: readonly HistogramTask[],
  bins: Uint8Array,
  nFeatures: number,
  rowIndex: Int32Array,
  grad: Float64Array,
  hess: Float64Array,
  hist: Float64Array,
  histStride: number,
  featureOffset: Int32Array,
  featureBinCount: Int32Array,
  activeFeatures: Int32Array,
  j0: number,
  j1: number,
): void {
  for (const t of tasks) {
    const base = t.slot * histStride;
    clearHistogram(hist, base, featureOffset, featureBinCount, activeFeatures, j0, j1);
    accumulateHistogram(bins, nFeatures, rowIndex, t.start, t.end, grad, hess, hist, base, featureOffset, activeFeatures, j0, j1);
  }
}
