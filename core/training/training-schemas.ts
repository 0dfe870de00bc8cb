import { z } from 'zod';
import { coverageCellSchema, cvMetricsSchema, modelParamsSchema, tuningSummarySchema } from '../models/model-schemas.js';
import { categoryTailSchema } from '../schema/category-vocabulary.js';

const ref = z.string().trim().min(1, 'give an id, an id prefix or a name').max(256);

/** What a training run is asked to do. The API takes all but the local-only fields (`foldsFile`, `threads`). */
export const trainRequestSchema = z.strictObject({
  /** Dataset id, id prefix or name. */
  dataset: ref,
  /** Number of folds (default 5). */
  folds: z.number().int().min(2).max(20).optional(),
  foldScheme: z.enum(['random', 'time']).optional(),
  /** CSV `row,fold` (row = 0-based data row of the source file) to reproduce someone else's folds. */
  foldsFile: z.string().min(1).max(4096).optional(),
  /** Learner parameters by name (learningRate, maxLeaves, nRounds, …); unknown names are refused. */
  params: z.record(z.string().min(1).max(64), z.union([z.number(), z.string().max(64)])).optional(),
  /** Continue boosting from this model (id or 'champion'). */
  warmStart: ref.optional(),
  name: z.string().trim().min(1).max(64).optional(),
  seed: z.number().int().min(0).optional(),
  /** Hyper-parameter search (core/training/hyperparameter-search.ts): default 'fast'; parameters given in `params` are not searched. */
  tune: z.enum(['fast', 'thorough', 'off']).optional(),
  threads: z.number().int().min(1).max(256).optional(),
});
export type TrainRequest = z.input<typeof trainRequestSchema>;

export const trainProgressSchema = z.object({
  phase: z.enum(['loading', 'cross-validation', 'tuning', 'final-model', 'export']),
  /** Fold this update is about (0-based) during cross-validation; folds run in parallel, so updates interleave. */
  fold: z.number().optional(),
  folds: z.number().optional(),
  round: z.number().optional(),
  nRounds: z.number().optional(),
  trainLoss: z.number().optional(),
  validLoss: z.number().optional(),
});
export type TrainProgress = z.output<typeof trainProgressSchema>;

export const trainResultSchema = z.object({
  modelId: z.string(),
  name: z.string(),
  status: z.literal('challenger'),
  cv: cvMetricsSchema,
  /** Expanding-window (time-ordered) figures per block, when the sales have dates: the out-of-time headline. */
  outOfTime: cvMetricsSchema.optional(),
  /** The local price index the prices were deflated by (core/market); null when the model has none. */
  market: z
    .object({ reference: z.string(), periods: z.number(), regions: z.number(), lastSaleDate: z.string(), controls: z.array(z.string()) })
    .nullable()
    .optional(),
  intervals: z.array(z.object({ level: z.number(), empiricalCoverage: z.number() })),
  /**
   * Coverage of the per-property bands on out-of-fold sales that neither trained the difficulty model nor set the
   * quantiles (core/training/normalised-conformal.ts), overall, per confidence tier and per price decile.
   */
  coverage: z
    .object({
      overall: coverageCellSchema,
      byTier: z.array(coverageCellSchema),
      byPriceDecile: z.array(coverageCellSchema),
      rows: z.object({ difficulty: z.number(), calibration: z.number(), evaluation: z.number() }),
    })
    .optional(),
  trainSeconds: z.number(),
  nTrees: z.number(),
  params: modelParamsSchema,
  /** The final model's hyper-parameter search; absent when tuning was off or skipped (warm start, too few rows). */
  tuning: tuningSummarySchema.optional(),
  /** Per categorical feature: levels kept, levels pooled in the shared "other (rare)" code and their rows. */
  categoryTails: z.array(categoryTailSchema),
});
export type TrainResult = z.output<typeof trainResultSchema>;
