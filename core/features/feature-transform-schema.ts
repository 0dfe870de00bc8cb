import { z } from 'zod';
import { rareLevelsSchema } from '../schema/category-vocabulary.js';

/** The version tag of the feature definition; bump it when existing models would read their inputs differently. */
export const FEATURE_TRANSFORM_VERSION = 'appraise-features/1';
/**
 * A definition with rare category levels pooled in a shared code (`rare` below). Written only when some column
 * has such levels, so definitions without them (and their hashes) stay as they were; a reader that knew only /1
 * would read those levels as unknown, hence the new tag.
 */
export const FEATURE_TRANSFORM_VERSION_RARE = 'appraise-features/2';

export const featureOpSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('number'), column: z.string() }),
  z.object({ op: z.literal('ordinal'), column: z.string(), levels: z.array(z.string()) }),
  z.object({ op: z.literal('category'), column: z.string() }),
  z.object({ op: z.literal('days'), column: z.string(), origin: z.string() }),
  z.object({ op: z.literal('years_between'), fromYear: z.string(), toDate: z.string() }),
  z.object({ op: z.literal('years_since'), eventYear: z.string(), fallbackYear: z.string().optional(), atDate: z.string() }),
  z.object({ op: z.literal('month_index'), date: z.string(), origin: z.string() }),
  z.object({ op: z.literal('ratio'), numerator: z.string(), denominator: z.string() }),
]);
export type FeatureOp = z.output<typeof featureOpSchema>;

export const featureDefSchema = z.object({ name: z.string(), kind: z.enum(['numeric', 'categorical']), spec: featureOpSchema });
export type FeatureDef = z.output<typeof featureDefSchema>;

/** The fitted feature definition stored in every model manifest (see feature-transform.ts). */
export const featureTransformSchema = z.object({
  version: z.enum([FEATURE_TRANSFORM_VERSION, FEATURE_TRANSFORM_VERSION_RARE]),
  /** The schema the inputs follow (column name → type), for checking imports and inputs. */
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  target: z.object({ column: z.string(), transform: z.enum(['log', 'log1p', 'none']) }),
  saleDate: z.string().nullable(),
  features: z.array(featureDefSchema),
  /** Category codes per categorical feature: code = index in the list. */
  vocabularies: z.record(z.string(), z.array(z.string())),
  /** Per categorical feature, the levels sharing the "other (rare)" code, which is the vocabulary's length. */
  rare: z.record(z.string(), rareLevelsSchema).optional(),
  /** sha256 of everything above; the transform's version identity. */
  hash: z.string(),
});
export type FeatureTransform = z.output<typeof featureTransformSchema>;
