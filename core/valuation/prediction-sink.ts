import type { NormalizedValue } from '../schema/column-parser.js';

/** One estimate as monitoring needs it: what went in (input and features), what came out, and when. */
export interface PredictionRecord {
  modelId: string;
  source: 'value' | 'score';
  /** ISO time the estimate was made. */
  predictedAt: string;
  valuationDate: string | null;
  /** The value of the schema's identifier column, when the input had one: sales files are matched on it later. */
  propertyId: string | null;
  /** The validated input, by column name. */
  input: Record<string, NormalizedValue>;
  /** The feature vector the model saw (NaN = missing or an unseen category). */
  features: Float32Array;
  /** Indexes of categorical features whose input value was not seen in training (the model treats it as missing). */
  unseen: number[];
  estimate: number;
  interval: { level: number; low: number; high: number } | null;
  /** The batch scoring job that made this estimate (source 'score'); absent for a single valuation. */
  jobId?: string | null;
}

/**
 * Where `ValuationService` reports each estimate it makes. Defined here, in the valuation layer, and implemented
 * above it (core/monitoring's `SqlitePredictionLog`), so that valuation never imports monitoring: imports point
 * inward, and a build or test without monitoring simply passes no sink. `record` returns the log entry's id
 * (carried on the valuation as `predictionId`, so a sale price can be linked to it later). It runs inside the
 * valuation call: it must be quick and must not throw for a valid record.
 */
export interface PredictionSink {
  record(prediction: PredictionRecord): string;
  /**
   * Logs a chunk of batch scores in one transaction (one commit per chunk keeps batch throughput: a commit per
   * row would cost a sync each); returns their ids in order. Optional: a sink without it logs no batch scores.
   */
  recordMany?(predictions: PredictionRecord[]): string[];
}
