import type { PredictionRecord, PredictionSink } from '../valuation/prediction-sink.js';

/** One logged estimate, with its sale once one is linked. */
export interface LoggedPrediction extends PredictionRecord {
  id: string;
  salePrice: number | null;
  saleDate: string | null;
}

/** A row as the report reads it: everything but the input, which is parsed only when asked for (it is the slow part). */
export interface PredictionScanRow {
  id: string;
  predictedAt: string;
  features: Float32Array;
  unseen: number[];
  estimate: number;
  intervalLow: number | null;
  intervalHigh: number | null;
  salePrice: number | null;
  /** Parses the logged input (by column name). */
  input(): Record<string, string | number | null>;
}

export interface PredictionFilter {
  modelId: string;
  /** ISO time; only predictions made at or after it. */
  since?: string;
  /** ISO time; only predictions made before it. */
  until?: string;
  /** Only single valuations ('value') or only batch scores ('score'); default both. */
  source?: 'value' | 'score';
  /** Only the batch scores of this scoring job. */
  jobId?: string;
}

export interface SaleRecord {
  /** The identifier column's value in the sales file. */
  propertyId: string;
  price: number;
  saleDate?: string | null;
}

/** How long the log keeps entries: older than `days` or beyond the newest `maxRows` are pruned. */
export interface RetentionPolicy {
  days: number;
  maxRows: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { days: 730, maxRows: 5_000_000 };

/**
 * The prediction log: every estimate a model made (through `ValuationService`'s sink), and the sale prices that
 * arrive later. Writes are durable when they return; a batch of sales is linked in one transaction.
 */
export interface PredictionLog extends PredictionSink {
  get(id: string): LoggedPrediction;
  /** Links the actual sale price to one logged prediction (by its id). NOT_FOUND for an unknown id. */
  recordSale(predictionId: string, price: number, saleDate?: string | null): LoggedPrediction;
  /**
   * Links each sale to every logged prediction of that property that has no sale yet (one transaction). Returns
   * how many sales matched at least one prediction and which property ids matched none.
   */
  recordSales(sales: SaleRecord[], options?: { modelId?: string }): { matched: number; predictions: number; unmatched: string[] };
  /** Calls `fn` for each prediction of the filter, oldest first, without holding them all in memory; returns the count. */
  scan(filter: PredictionFilter, fn: (row: PredictionScanRow) => void): number;
  count(filter: PredictionFilter): number;
  /** Deletes entries beyond the retention policy; returns how many. */
  prune(policy?: RetentionPolicy, now?: Date): number;
}
