import type { HistoryEntry, Valuation } from './valuation-schemas.js';

/** The valuations a user saved, newest first. Each save is durable when it returns. */
export interface ValuationHistory {
  list(limit?: number): HistoryEntry[];
  save(label: string, valuation: Valuation): HistoryEntry;
  /** False when there was no such entry. */
  delete(id: string): boolean;
}
