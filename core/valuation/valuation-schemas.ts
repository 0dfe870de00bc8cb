import { z } from 'zod';
import { confidenceTierSchema } from '../models/model-schemas.js';

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
  /** The value of the dataset's identifier column for this sale (e.g. the parcel id), when it has one. */
  saleId: z.string().nullable().optional(),
});
export type ComparableSale = z.output<typeof comparableSaleSchema>;

/**
 * One line of the sales comparison grid for one comparable: what the model says the difference in a group of
 * features (time, location, size…) between the subject and the comparable is worth, in currency. `amount` is
 * the sum of its features' `amount`s; each is the subject's contribution minus the comparable's (TreeSHAP, in
 * currency). Positive: the subject is worth more on this line, so the comparable's price is adjusted up.
 */
export const gridGroupSchema = z.enum(['time', 'location', 'site', 'size', 'quality', 'condition', 'age', 'rooms', 'other']);

export const gridAdjustmentSchema = z.object({
  group: gridGroupSchema,
  /** The line's adjustment: the model's, or the appraiser's where `override` is set. */
  amount: z.number(),
  features: z.array(z.object({ feature: z.string(), subject: normalizedValueSchema, comparable: normalizedValueSchema, amount: z.number() })),
  /** Set when the appraiser replaced the model's amount: what the model said and why it was changed. */
  override: z.object({ modelAmount: z.number(), reason: z.string() }).optional(),
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
  /** Set by the appraiser: left out of the reconciliation (still listed, so the report shows what was set aside). */
  excluded: z.boolean().optional(),
  /** Added by the appraiser from the workspace's sales, not one of the model's nearest. */
  added: z.boolean().optional(),
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

/** The appraiser replaces the model's amount on one line of one comparable's grid, and says why. */
export const gridOverrideSchema = z.strictObject({
  /** The comparable (its `rowIndex`). */
  rowIndex: z.number().int().min(0),
  group: gridGroupSchema,
  amount: z.number().finite(),
  reason: z.string().trim().min(1, 'say why the adjustment is changed').max(500),
});
export type GridOverride = z.output<typeof gridOverrideSchema>;

/**
 * The appraiser's changes to the model's grid: comparables set aside (by `rowIndex`), sales added from the
 * workspace (by the value of the dataset's identifier column, e.g. the parcel id), and overridden lines.
 */
export const gridEditsSchema = z.strictObject({
  excluded: z.array(z.number().int().min(0)).max(100).default([]),
  added: z.array(z.string().trim().min(1).max(64)).max(20).default([]),
  overrides: z.array(gridOverrideSchema).max(200).default([]),
});
export type GridEdits = z.output<typeof gridEditsSchema>;

/** The grid on request (`valuation.grid`): every comparable with its adjustments, and the reconciliation. */
export const valuationGridSchema = z.object({
  comparables: z.array(adjustedComparableSchema),
  /** Over the comparables not excluded; null when none is left. */
  reconciliation: reconciliationSchema.nullable(),
  edits: gridEditsSchema,
});
export type ValuationGrid = z.output<typeof valuationGridSchema>;

/** Who the valuation is for and about, as the report prints it. Every field is optional free text. */
export const subjectIdentitySchema = z.strictObject({
  address: z.string().trim().max(300).optional(),
  parcelId: z.string().trim().max(100).optional(),
  client: z.string().trim().max(200).optional(),
  intendedUse: z.string().trim().max(300).optional(),
  /** The date the value is given as of (ISO); the report date is the day the report is made. */
  effectiveDate: z.string().trim().max(10).optional(),
  appraiserName: z.string().trim().max(200).optional(),
  appraiserLicence: z.string().trim().max(100).optional(),
  notes: z.string().trim().max(4000).optional(),
});
export type SubjectIdentity = z.output<typeof subjectIdentitySchema>;

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
  /**
   * Forecast standard deviation: the standard deviation of estimate / sale price expected for this property, as a
   * fraction of the estimate (0.12 = 12 %), widened with the band. Null when the model has no band; absent in
   * valuations saved before it existed.
   */
  fsd: z.number().nullable().optional(),
  /** High / Medium / Low from the FSD (core/models/confidence-tier.ts). */
  confidenceTier: confidenceTierSchema.nullable().optional(),
  baseValue: z.number(),
  contributions: z.array(featureContributionSchema),
  /** With the adjustment grid when the model has its trees and its training sales are here; plain otherwise. */
  comparables: z.array(z.union([adjustedComparableSchema, comparableSaleSchema])),
  /** The grid's reconciliation; absent when there is no grid (see comparables). */
  reconciliation: reconciliationSchema.optional(),
  /** The appraiser's changes to the grid, when any were made (the comparables and reconciliation include them). */
  gridEdits: gridEditsSchema.optional(),
  /** The subject's identity and the assignment, entered by the appraiser before saving or reporting. */
  subject: subjectIdentitySchema.optional(),
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
  /** Scored rows written to the prediction log for monitoring, and the job id they were logged with. */
  logged: z.object({ rows: z.number(), jobId: z.string() }).optional(),
  /**
   * The first rows of this run that could not be valued (up to 100 of `failed`), for the window: `row` as in the
   * output's `row` column, `line` the 1-based line of the CSV file where the record starts (null for a dataset).
   */
  failures: z.array(z.object({ row: z.number(), line: z.number().nullable(), reason: z.string() })).optional(),
  /** The output's header and its first rows from this run (up to 10), for a preview in the window. */
  preview: z.object({ columns: z.array(z.string()), rows: z.array(z.array(z.union([z.string(), z.number(), z.null()]))) }).optional(),
});
export type ScoreResult = z.output<typeof scoreResultSchema>;

/** One real sale to start the valuation form from: the medoid of the data on the form's fields. */
export const typicalSaleSchema = z.object({
  datasetId: z.string(),
  rowIndex: z.number(),
  /** The identifier column's value (e.g. the parcel id), when the dataset has one. */
  saleId: z.string().nullable(),
  saleDate: z.string().nullable(),
  price: z.number().nullable(),
  /** The sale's values of the form's fields, by column name. */
  values: z.record(z.string(), normalizedValueSchema),
  /** The fields the medoid was chosen on. */
  fields: z.array(z.string()),
});
export type TypicalSale = z.output<typeof typicalSaleSchema>;

/** A valuation the user saved, with the label they gave it. */
export const historyEntrySchema = z.object({ id: z.string(), savedAt: z.string(), label: z.string(), valuation: valuationSchema });
export type HistoryEntry = z.output<typeof historyEntrySchema>;
