import type { NormalizedValue } from '../schema/column-parser.js';

export interface ComparableSale {
  /** 0-based data row of the source file. */
  rowIndex: number;
  price: number;
  saleDate: string | null;
  /** Great-circle distance in km, when the schema has coordinates. */
  distanceKm: number | null;
  /** Weighted distance used for ranking (lower is more similar). */
  score: number;
  latitude: number | null;
  longitude: number | null;
  attributes: Record<string, NormalizedValue>;
}

export interface FeatureContribution {
  feature: string;
  /** The feature's value as the model saw it (category and level codes, day numbers; NaN → null). */
  featureValue: number | null;
  /** The value as a person reads it: the input field for features taken straight from a column. */
  displayValue: string | number | null;
  /** TreeSHAP contribution in transformed-target space (log price). */
  value: number;
  /** The same contribution expressed in currency around the estimate (for charts). */
  amount: number;
}

export interface Valuation {
  modelId: string;
  valuationDate: string | null;
  estimate: number;
  /** The primary (80 %) interval; `intervals` has every calibrated level. */
  interval: { level: number; low: number; high: number };
  intervals: { level: number; low: number; high: number }[];
  baseValue: number;
  contributions: FeatureContribution[];
  comparables: ComparableSale[];
  warnings: string[];
  input: Record<string, NormalizedValue>;
}

export interface ScoreResult {
  modelId: string;
  rows: number;
  scored: number;
  failed: number;
  output: string;
  seconds: number;
}
