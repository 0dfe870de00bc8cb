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

/**
 * One line of the sales comparison grid for one comparable: what the model says the difference in a group of
 * features (time, location, size…) between the subject and the comparable is worth, in currency. `amount` is
 * the sum of its features' `amount`s; each is the subject's contribution minus the comparable's (TreeSHAP, in
 * currency). Positive: the subject is worth more on this line, so the comparable's price is adjusted up.
 */
export const gridAdjustmentSchema = z.object({
  group: z.enum(['time', 'location', 'site', 'size', 'quality', 'condition', 'age', 'rooms', 'other']),
  amount: z.number(),
  features: z.array(z.object({ feature: z.string(), subject: normalizedValueSchema, comparable: normalizedValueSchema, amount: z.number() })),
});
export type GridAdjustment = z.output<typeof gridAdjustmentSchema>;

/** A comparable with its grid: adjustments, adjusted price, net and gross adjustment as a share of its price. */
export const adjustedComparableSchema = comparableSaleSchema.extend({
  adjustments: z.array(gridAdjustmentSchema),
  /** price + the sum of the adjustments. */
  adjustedPrice: z.number(),
  /** Sum of the adjustments / price (0.12 = 12 %). */
  netPct: z.number(),
  /** Sum of the adjustments' absolute values / price. */
  grossPct: z.number(),
  /** Beyond the usual limits (15 % net, 25 % gross): the comparable needs a second look. */
  flags: z.object({ net: z.boolean(), gross: z.boolean() }),
});
export type AdjustedComparable = z.output<typeof adjustedComparableSchema>;

/** The adjusted comparables set against the model's estimate. */
export const reconciliationSchema = z.object({
  count: z.number(),
  /** Mean and median of the adjusted prices, and their range. */
  mean: z.number(),
  median: z.number(),
  low: z.number(),
  high: z.number(),
  /** (median adjusted price − estimate) / estimate. */
  differencePct: z.number(),
});
export type Reconciliation = z.output<typeof reconciliationSchema>;

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
  /** The same contribution expressed in currency around the estimate (for charts); the amounts add up to estimate − base value. */
  amount: z.number(),
  /** For a `log` target: the factor exp(value) the feature multiplies the price by (1.08 = +8 %). Absent otherwise. */
  factor: z.number().optional(),
});
export type FeatureContribution = z.output<typeof featureContributionSchema>;

const valueIntervalSchema = z.object({ level: z.number(), low: z.number(), high: z.number() });

export const valuationSchema = z.object({
  /** The prediction-log entry of this valuation (to link its sale price later); absent when it was not logged. */
  predictionId: z.string().optional(),
  modelId: z.string(),
  valuationDate: z.string().nullable(),
  estimate: z.number(),
  /** The primary (80 %) interval; `intervals` has every calibrated level. */
  interval: valueIntervalSchema,
  intervals: z.array(valueIntervalSchema),
  baseValue: z.number(),
  contributions: z.array(featureContributionSchema),
  /** With the adjustment grid when the model has its trees and its training sales are here; plain otherwise. */
  comparables: z.array(z.union([adjustedComparableSchema, comparableSaleSchema])),
  /** The grid's reconciliation; absent when there is no grid (see comparables). */
  reconciliation: reconciliationSchema.optional(),
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
  /** What the run decided about an earlier, interrupted run (resumed, or started over and why). */
  notes: z.array(z.string()).optional(),
});
export type ScoreResult = z.output<typeof scoreResultSchema>;

/** A valuation the user saved, with the label they gave it. */
export const historyEntrySchema = z.object({ id: z.string(), savedAt: z.string(), label: z.string(), valuation: valuationSchema });
export type HistoryEntry = z.output<typeof historyEntrySchema>;
