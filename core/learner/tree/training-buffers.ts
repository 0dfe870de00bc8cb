import type { GlobalBins } from './histogram.js';

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
