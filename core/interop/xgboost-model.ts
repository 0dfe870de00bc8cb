import { z } from 'zod';
import { badFile, invalidInput } from '../common/errors.js';
import type { FeatureKind, SerializedTree, TreeEnsemble } from '../learner/model/tree-model.js';
import { appendNode, emptyTree } from '../learner/model/tree-model.js';

/**
 * Converts XGBoost's JSON model format (`Booster.save_model('m.json')`, also what `xgboost.spark` and
 * `xgboost.dask` write) into Appraise's TreeEnsemble, so an imported model gets TreeSHAP reasons, warm starts and
 * the ONNX export like one trained here.
 *
 * Semantics that differ and how they are mapped (XGBoost 1.7 `predict_fn.h`, `categorical.h`):
 * - Numeric split: XGBoost sends `x < t` left, Appraise `x <= t'`. Features are float32 in both, so
 *   `t'` = the largest float32 below `t` gives the same decision for every float32 x.
 * - Categorical split: XGBoost stores the category set that goes RIGHT (codes not in it, and invalid codes, go
 *   left). Appraise sends members LEFT, so the children are swapped and `defaultLeft` is flipped with them.
 * - Leaves: `split_conditions[i]` holds the leaf value with the learning rate applied; `sum_hessian` is the cover
 *   TreeSHAP needs.
 * - `base_score` is the margin for identity-link objectives, the only ones accepted: the model must predict the
 *   transformed target (e.g. log price) directly.
 * What cannot be represented (other objectives, several outputs, dart, linear boosters) is refused by name.
 */

/** Objectives whose prediction is the raw margin (identity link): base score + sum of leaves. */
const IDENTITY_OBJECTIVES = new Set([
  'reg:squarederror',
  'reg:linear',
  'reg:pseudohubererror',
  'reg:absoluteerror',
  'reg:quantileerror',
  'reg:squaredlogerror',
]);

const numberish = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) ctx.addIssue({ code: 'custom', message: `not a number: ${String(v)}` });
  return n;
});

const xgbTreeSchema = z.object({
  left_children: z.array(z.number().int()),
  right_children: z.array(z.number().int()),
  split_indices: z.array(z.number().int()),
  /** null where XGBoost wrote NaN (categorical nodes, which do not use it). */
  split_conditions: z.array(z.number().nullable()),
  default_left: z.array(z.union([z.number(), z.boolean()])),
  sum_hessian: z.array(z.number()),
  split_type: z.array(z.number().int()).optional(),
  categories: z.array(z.number().int()).optional(),
  categories_nodes: z.array(z.number().int()).optional(),
  categories_segments: z.array(z.number().int()).optional(),
  categories_sizes: z.array(z.number().int()).optional(),
  tree_param: z.object({ size_leaf_vector: numberish.optional() }).passthrough().optional(),
});

/** The parts of an XGBoost JSON model the converter reads; everything else is ignored. */
export const xgboostModelSchema = z.object({
  learner: z.object({
    feature_names: z.array(z.string()).optional(),
    feature_types: z.array(z.string()).optional(),
    learner_model_param: z
      .object({ base_score: numberish, num_class: numberish.optional(), num_feature: numberish, num_target: numberish.optional() })
      .passthrough(),
    objective: z.object({ name: z.string() }).passthrough(),
    gradient_booster: z
      .object({
        name: z.string(),
        model: z
          .object({
            trees: z.array(xgbTreeSchema).optional(),
            tree_info: z.array(z.number().int()).optional(),
          })
          .passthrough()
          .optional(),
      })
      .passthrough(),
  }),
  version: z.array(z.number()).optional(),
});
export type XgboostModel = z.output<typeof xgboostModelSchema>;

export interface ConvertedModel {
  ensemble: TreeEnsemble;
  /** Feature names stored in the file (absent when the model was trained on an unnamed matrix). */
  fileFeatureNames: string[] | null;
  objective: string;
  producer: string;
}

/** The largest float32 strictly below `t` (t a float32 value): turns XGBoost's `x < t` into Appraise's `x <= t'`. */
export function float32Below(t: number): number {
  if (Number.isNaN(t) || t === -Infinity) return t;
  if (t === Infinity) return 3.4028234663852886e38;
  const f = new Float32Array([t]);
  const bits = new Int32Array(f.buffer);
  if (f[0] === 0)
    bits[0] = 0x80000001 | 0; // below ±0: the smallest negative subnormal
  else if (f[0] > 0) bits[0] -= 1;
  else bits[0] += 1;
  return f[0];
}

/** Parses the file text; BAD_FILE if it is not an XGBoost JSON model, INVALID_INPUT if it is one we cannot use. */
export function parseXgboostJson(text: string, source: string): XgboostModel {
  let raw: unknown;
  try {
    // XGBoost writes NaN as a bare token (the split condition of a categorical node), which JSON has no word for.
    raw = JSON.parse(text.replace(/([[,:]\s*)(-?Infinity|NaN)(?=\s*[,\]}])/g, '$1null'));
  } catch (e) {
    throw badFile(`${source} is not JSON (${(e as Error).message}); save the model with Booster.save_model('model.json')`);
  }
  const parsed = xgboostModelSchema.safeParse(raw);
  if (!parsed.success) {
    throw badFile(
      `${source} is not an XGBoost JSON model (Booster.save_model('model.json')):\n${parsed.error.issues
        .slice(0, 5)
        .map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('\n')}`,
    );
  }
  return parsed.data;
}

/**
 * Builds the ensemble. `featureKinds`/`categoryCounts` come from the import template (the file only knows
 * quantitative vs categorical); the caller checks names and count against the template first.
 */
export function convertXgboost(
  model: XgboostModel,
  source: string,
  inputs: { names: string[]; kinds: FeatureKind[]; categoryCounts: number[] },
): ConvertedModel {
  const l = model.learner;
  const booster = l.gradient_booster.name;
  if (booster === 'dart')
    throw invalidInput(
      `${source} is a DART model; its trees are reweighted at prediction time, which Appraise's ensemble cannot represent — retrain with booster='gbtree'`,
    );
  if (booster !== 'gbtree') throw invalidInput(`${source} uses the ${booster} booster; only tree models (booster='gbtree') can be imported`);
  const objective = l.objective.name;
  if (!IDENTITY_OBJECTIVES.has(objective)) {
    throw invalidInput(
      `${source} was trained with objective ${objective}; Appraise imports regression models whose prediction is the raw score (${[...IDENTITY_OBJECTIVES].join(', ')}) — train on the transformed target with reg:squarederror`,
    );
  }
  const nClass = l.learner_model_param.num_class ?? 0;
  const nTarget = l.learner_model_param.num_target ?? 1;
  if (nClass > 1 || nTarget > 1) throw invalidInput(`${source} has ${Math.max(nClass, nTarget)} outputs; Appraise imports single-output regression models`);
  const trees = l.gradient_booster.model?.trees ?? [];
  if (trees.length === 0) throw invalidInput(`${source} has no trees`);
  if ((l.gradient_booster.model?.tree_info ?? []).some((g) => g !== 0))
    throw invalidInput(`${source} has trees for several output groups; Appraise imports single-output models`);
  const nFeatures = l.learner_model_param.num_feature;
  const types = l.feature_types ?? null;
  const converted = trees.map((t, ti) => convertTree(t, ti, source, nFeatures, inputs));
  types?.forEach((ty, f) => {
    if (ty === 'c' && inputs.kinds[f] !== 'categorical')
      throw invalidInput(`${source}: feature ${f} (${inputs.names[f]}) is categorical in the model but numeric in the import template`);
  });
  const v = model.version;
  return {
    ensemble: {
      format: 'appraise-gbdt/1',
      baseScore: Math.fround(l.learner_model_param.base_score),
      featureNames: inputs.names,
      featureKinds: inputs.kinds,
      categoryCounts: inputs.categoryCounts,
      trees: converted,
    },
    fileFeatureNames: l.feature_names && l.feature_names.length > 0 ? l.feature_names : null,
    objective,
    producer: `xgboost ${v ? v.join('.') : '(unknown version)'}`,
  };
}

function convertTree(
  t: z.output<typeof xgbTreeSchema>,
  ti: number,
  source: string,
  nFeatures: number,
  inputs: { kinds: FeatureKind[]; categoryCounts: number[] },
): SerializedTree {
  const n = t.left_children.length;
  const fail = (msg: string) => invalidInput(`${source}: tree ${ti}: ${msg}`);
  for (const [name, a] of [
    ['right_children', t.right_children],
    ['split_indices', t.split_indices],
    ['split_conditions', t.split_conditions],
    ['default_left', t.default_left],
    ['sum_hessian', t.sum_hessian],
  ] as const)
    if (a.length !== n) throw fail(`${name} has ${a.length} entries, left_children has ${n}`);
  if ((t.tree_param?.size_leaf_vector ?? 0) > 1) throw fail('vector leaves (multi-output trees) cannot be imported');
  // Category sets per node: the segment of `categories` belonging to each categorical node.
  const catsOf = new Map<number, number[]>();
  const nodes = t.categories_nodes ?? [];
  nodes.forEach((nid, k) => {
    const beg = t.categories_segments?.[k] ?? 0;
    const size = t.categories_sizes?.[k] ?? 0;
    catsOf.set(nid, (t.categories ?? []).slice(beg, beg + size));
  });
  // Renumber depth-first from the root: XGBoost may leave deleted (pruned) nodes in the arrays.
  const out = emptyTree();
  const visit = (src: number, depth: number): number => {
    if (src < 0 || src >= n) throw fail(`child ${src} is outside 0..${n - 1}`);
    if (depth > 256) throw fail('deeper than 256 levels (cyclic children?)');
    const id = appendNode(out, t.sum_hessian[src]);
    const cond = t.split_conditions[src];
    if (t.left_children[src] === -1) {
      if (cond === null) throw fail(`leaf ${src} has no value`);
      out.value[id] = Math.fround(cond);
      return id;
    }
    const f = t.split_indices[src];
    if (f < 0 || f >= nFeatures || f >= inputs.kinds.length) throw fail(`node ${src} splits on feature ${f}, outside the ${inputs.kinds.length} inputs`);
    const categorical = (t.split_type?.[src] ?? 0) === 1;
    const dl = t.default_left[src] === true || t.default_left[src] === 1 ? 1 : 0;
    let l = t.left_children[src];
    let r = t.right_children[src];
    out.feature[id] = f;
    if (categorical) {
      if (inputs.kinds[f] !== 'categorical') throw fail(`node ${src} is a categorical split on ${f}, a numeric input in the template`);
      const cats = catsOf.get(src);
      if (!cats) throw fail(`categorical node ${src} has no category list`);
      const bad = cats.find((c) => c < 0 || c >= inputs.categoryCounts[f]);
      if (bad !== undefined) throw fail(`node ${src} uses category code ${bad}, outside the template's ${inputs.categoryCounts[f]} levels`);
      // XGBoost's set goes right; Appraise's members go left: swap the children, and missing with them.
      out.categories[id] = [...cats].sort((a, b) => a - b);
      out.defaultLeft[id] = dl ? 0 : 1;
      [l, r] = [r, l];
    } else {
      if (cond === null) throw fail(`numeric node ${src} has no threshold`);
      out.threshold[id] = float32Below(cond);
      out.defaultLeft[id] = dl;
    }
    const li = visit(l, depth + 1);
    out.left[id] = li;
    const ri = visit(r, depth + 1);
    out.right[id] = ri;
    return id;
  };
  visit(0, 0);
  return out;
}
