/**
 * Wire types of model scoring, shared by the in-thread session, the worker pool and batch scoring.
 * Feature matrices are row-major float32 `[nRows, nFeatures]` in the model's feature order, NaN for missing.
 */

/** Model outputs for a batch, one entry per row, in the order of the input rows. */
export interface Prediction {
  /** Transformed-target space (e.g. log price): the model's `raw` output. */
  raw: Float32Array;
  /** Target space (e.g. price): the model's `value` output. */
  value: Float32Array;
}

/** Anything that scores feature matrices with a loaded model: `OnnxSession`-backed or the worker pool. */
export interface ValuationPredictor {
  predict(modelId: string, X: Float32Array, nRows: number, nFeatures: number): Promise<Prediction>;
}
