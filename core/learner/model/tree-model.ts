/**
 * The serialized form of a gradient-boosted tree ensemble: the one format shared by the learner (which writes it),
 * TreeSHAP, the ONNX exporter and the model manifest. Plain JSON-friendly arrays so it can be stored as-is.
 *
 * Semantics (chosen to map 1:1 onto ONNX ai.onnx.ml TreeEnsemble):
 * - Features arrive as float32. A numeric split sends a row to `left` when `x <= threshold` (BRANCH_LEQ);
 *   `threshold` is always a float32-representable value, so float32 and float64 evaluation agree.
 * - A categorical split (`categories[i]` non-null) sends a row `left` when its category code (a small
 *   non-negative integer stored as a float) is in `categories[i]` (BRANCH_MEMBER).
 * - Missing values (NaN) go `left` when `defaultLeft[i]` is 1, else `right` (missing_value_tracks_true).
 * - Leaves have `feature[i] === -1`; `value[i]` is the leaf output with the learning rate already applied.
 * - `cover[i]` is the sum of hessians of training rows reaching node i (needed by TreeSHAP).
 * The prediction in transformed-target space is `baseScore + sum over trees of leaf value`.
 */
export interface SerializedTree {
  feature: number[];
  threshold: number[];
  categories: (number[] | null)[];
  defaultLeft: number[];
  left: number[];
  right: number[];
  value: number[];
  cover: number[];
}

export type FeatureKind = 'numeric' | 'categorical';

export interface TreeEnsemble {
  format: 'appraise-gbdt/1';
  baseScore: number;
  featureNames: string[];
  featureKinds: FeatureKind[];
  /** Number of category codes per categorical feature (codes are 0..n-1); 0 for numeric features. */
  categoryCounts: number[];
  trees: SerializedTree[];
}

/** Reference evaluation of one row (float32 semantics). Slow and obviously correct; the learner has fast paths. */
export function predictRaw(model: TreeEnsemble, row: ArrayLike<number>): number {
  let sum = model.baseScore;
  for (const t of model.trees) sum += t.value[leafIndex(t, row)];
  return sum;
}

/** A tree with no nodes yet, for learners and importers that build one node at a time. */
export function emptyTree(): SerializedTree {
  return { feature: [], threshold: [], categories: [], defaultLeft: [], left: [], right: [], value: [], cover: [] };
}

/** Appends a leaf (no split, value 0, the given cover) and returns its index; a split is set on it afterwards. */
export function appendNode(t: SerializedTree, cover = 0): number {
  t.feature.push(-1);
  t.threshold.push(0);
  t.categories.push(null);
  t.defaultLeft.push(0);
  t.left.push(-1);
  t.right.push(-1);
  t.value.push(0);
  t.cover.push(cover);
  return t.feature.length - 1;
}

export function leafIndex(t: SerializedTree, row: ArrayLike<number>): number {
  let i = 0;
  while (t.feature[i] !== -1) i = childOf(t, i, row);
  return i;
}

/** The child a row goes to at internal node i: the one routing rule every evaluator shares. */
export function childOf(t: SerializedTree, i: number, row: ArrayLike<number>): number {
  const x = Math.fround(row[t.feature[i]]);
  let goLeft: boolean;
  if (Number.isNaN(x)) goLeft = t.defaultLeft[i] === 1;
  else {
    const cats = t.categories[i];
    goLeft = cats ? cats.includes(x) : x <= t.threshold[i];
  }
  return goLeft ? t.left[i] : t.right[i];
}
