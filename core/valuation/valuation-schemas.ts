import { z } from 'zod';

/** A value as the schema normalizes it: numbers, texts (categories, ISO dates) or missing. */
export const normalizedValueSchema = z.union([z.number(), z.string(), z.null()]);

export const comparableSaleSchema = z.object({
  /** 0-based data row of the source file. */
  rowIndex: z.number(),
  price: z.number(),
  saleDate: z.string().nullable(),
  /** Great-circle distance in km, when the schema has coordinates. */
  distanceKm: z.number().nullable(),
  /** Weighted distance used for ranking (lower is more similar). */
  score: z.number(),
  latitude: z.number().nullable(),
  longitude: z.number().nullable(),
  attributes: z.record(z.string(), normalizedValueSchema),
});
export type ComparableSale = z.output<typeof comparableSaleSchema>;

export const featureContributionSchema = z.object({
  feature: z.string(),
  /** The feature's value as the model saw it (category and level codes, day numbers; NaN → null). */
  featureValue: z.number().nullable(),
  /**
   * The value as a person reads it: the input field for features taken straight from a column. Optional only
   * because valuations saved before it existed lack it; every new valuation has it.
   */
  displayValue: z.union([z.string(), z.number(), z.null()]).optional(),
  /** TreeSHAP contribution in transformed-target space (log price). */
  value: z.number(),
  /** The same contribution expressed in currency around the estimate (for charts). */
  amount: z.number(),
});
export type FeatureContribution = z.output<typeof featureContributionSchema>;

const valueIntervalSchema = z.object({ level: z.number(), low: z.number(), high: z.number() });

export const valuationSchema = z.object({
  modelId: z.string(),
  valuationDate: z.string().nullable(),
  estimate: z.number(),
  /** The primary (80 %) interval; `intervals` has every calibrated level. */
  interval: valueIntervalSchema,
  intervals: z.array(valueIntervalSchema),
  baseValue: z.number(),
  contributions: z.array(featureContributionSchema),
  comparables: z.array(comparableSaleSchema),
  warnings: z.array(z.string()),
  input: z.record(z.string(), normalizedValueSchema),
});
export type Valuation = z.output<typeof valuationSchema>;

export const scoreProgressSchema = z.object({ rows: z.number(), total: z.number() });
export type ScoreProgress = z.output<typeof scoreProgressSchema>;

export const scoreResultSchema = z.object({
  modelId: z.string(),
  rows: z.number(),
  scored: z.number(),
  failed: z.number(),
  output: z.string(),
  seconds: z.number(),
});
export type ScoreResult = z.output<typeof scoreResultSchema>;

/** A valuation the user saved, with the label they gave it. */
export const historyEntrySchema = z.object({ id: z.string(), savedAt: z.string(), label: z.string(), valuation: valuationSchema });
export type HistoryEntry = z.output<typeof historyEntrySchema>;
