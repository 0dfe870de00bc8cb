import { z } from 'zod';
import type { TreeEnsemble } from './tree-model.js';

/**
 * The full shape of a serialized tree ensemble (`ensemble.json`), for documents that come from outside the
 * process (an imported model folder, an artifact read back from the workspace). Only the shape: the structure
 * (array lengths, child indices, cycles, feature indices) is checked by `validateEnsemble` in core/onnx.
 */
export const serializedTreeSchema = z
  .object({
    feature: z.array(z.number().int()),
    threshold: z.array(z.number()),
    categories: z.array(z.array(z.number()).nullable()),
    defaultLeft: z.array(z.number().int()),
    left: z.array(z.number().int()),
    right: z.array(z.number().int()),
    value: z.array(z.number()),
    cover: z.array(z.number()),
  })
  .strict();

export const treeEnsembleSchema = z
  .object({
    format: z.literal('appraise-gbdt/1'),
    baseScore: z.number(),
    featureNames: z.array(z.string()),
    featureKinds: z.array(z.enum(['numeric', 'categorical'])),
    categoryCounts: z.array(z.number().int().nonnegative()),
    trees: z.array(serializedTreeSchema),
  })
  .strict();

// The interface in tree-model.ts stays the learner's own type; this line keeps the two from drifting apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
export const ensembleSchemaMatchesType: Same<z.output<typeof treeEnsembleSchema>, TreeEnsemble> = true;
