import { buildHistograms, type HistogramTask } from './histogram.js';

/**
 * Memory the tree grower works in. With worker threads these views sit on SharedArrayBuffers so the workers read
 * the bins, gradients and row partition and write histograms without copying.
 */
export interface TrainingBuffers {
  /** Binned training matrix, row-major Uint8. */
  bins: Uint8Array;
  nRows: number;
  nFeatures: number;
  grad: Float64Array;
  hess: Float64Array;
  /** Row partition: each node owns a contiguous range of this array. */
  rowIndex: Int32Array;
  /** Histogram pool: `nSlots` histograms of `histStride` doubles each. */
  hist: Float64Array;
  histStride: number;
  nSlots: number;
  featureOffset: Int32Array;
  /** Bins per feature including the missing bin. */
  featureBinCount: Int32Array;
}

/**
 * Builds node histograms into the pool. `build` is synchronous: the tree grower needs the result before its next
 * decision, and the thread pool implementation blocks on Atomics rather than awaiting messages (far cheaper per node).
 * The owner (the training driver) calls `close` exactly once, also on failure.
 */
export interface HistogramBuilder {
  readonly buffers: TrainingBuffers;
  readonly threads: number;
  /** Features the current tree may use (column subsampling), in increasing order. */
  setActiveFeatures(active: Int32Array): void;
  build(tasks: readonly HistogramTask[]): void;
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
  let bins = s.bins;
  if (shared && !(s.bins.buffer instanceof SharedArrayBuffer)) {
    bins = new Uint8Array(alloc(s.bins.length));
    bins.set(s.bins);
  }
  const histStride = s.totalBins * 2;
  return {
    bins,
    nRows: s.nRows,
    nFeatures: s.nFeatures,
    grad: new Float64Array(alloc(s.nRows * 8)),
    hess: new Float64Array(alloc(s.nRows * 8)),
    rowIndex: new Int32Array(alloc(s.nRows * 4)),
    hist: new Float64Array(alloc(histStride * s.nSlots * 8)),
    histStride,
    nSlots: s.nSlots,
    featureOffset: s.featureOffset,
    featureBinCount: s.featureBinCount,
  };
}

/** Everything on the calling thread (threads = 1, or tables too small for threads to pay). */
export class SingleThreadHistogramBuilder implements HistogramBuilder {
  readonly threads = 1;
  private active: Int32Array = new Int32Array(0);

  constructor(readonly buffers: TrainingBuffers) {}

  setActiveFeatures(active: Int32Array): void {
    this.active = active;
  }

  build(tasks: readonly HistogramTask[]): void {
    const b = this.buffers;
    buildHistograms(tasks, b.bins, b.nFeatures, b.rowIndex, b.grad, b.hess, b.hist, b.histStride, b.featureOffset, b.featureBinCount, this.active, 0, this.active.length);
  }

  async close(): Promise<void> {}
}
