import { z } from 'zod';
import { categoryTailSchema } from '../schema/category-vocabulary.js';

/** One column's profile in a dataset's quality report. */
export const columnQualitySchema = z.object({
  name: z.string(),
  type: z.string(),
  count: z.number(),
  missing: z.number(),
  missingShare: z.number(),
  min: z.union([z.number(), z.string()]).nullable(),
  max: z.union([z.number(), z.string()]).nullable(),
  mean: z.number().nullable(),
  std: z.number().nullable(),
  quantiles: z.array(z.object({ p: z.number(), value: z.number() })).nullable(),
  quantilesExact: z.boolean(),
  /** Exact when `distinctCapped` is false; a lower bound otherwise. */
  distinct: z.number(),
  distinctCapped: z.boolean(),
  topValues: z.array(z.object({ value: z.string(), count: z.number(), share: z.number() })),
  /** Categorical columns: the levels training will keep and those it will pool as "other (rare)" (absent in reports stored before). */
  categoryTail: categoryTailSchema.optional(),
});
export type ColumnQuality = z.output<typeof columnQualitySchema>;

/** Why rows were quarantined, per column and kind (`required`, `type`, `range`, `level`, `text`, `ragged`). */
export const problemCountsSchema = z.record(z.string(), z.record(z.string(), z.number()));

/** The data quality report stored with every dataset version and shown by `appraise quality`. */
export const qualityReportSchema = z.object({
  rowsRead: z.number(),
  rowsAccepted: z.number(),
  rowsQuarantined: z.number(),
  /** Accepted rows that repeat another accepted row exactly (all columns). */
  duplicateRows: z.number().nullable(),
  columns: z.array(columnQualitySchema),
  problems: problemCountsSchema,
  /** Values outside the configured range, per column (those rows are quarantined). */
  outOfRange: z.record(z.string(), z.number()),
});
export type QualityReport = z.output<typeof qualityReportSchema>;
