import { childOf, type SerializedTree, type TreeEnsemble } from './tree-model.js';

/**
 * Exact path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, Algorithm 2), using each node's `cover` as the
 * distribution of training rows. For a row, `contributions[f]` sum to prediction − expectedValue, where
 * expectedValue is the cover-weighted mean output of the ensemble. Cost per row: O(trees × leaves × depth²).
 */
export interface ShapExplanation {
  /** Cover-weighted mean prediction (transformed-target space): the value with no feature known. */
  expectedValue: number;
  /** One contribution per feature. */
  contributions: Float64Array;
}

/** Cover-weighted mean output of the ensemble, base score included. */
export function expectedValue(model: TreeEnsemble): number {
  let s = model.baseScore;
  for (const t of model.trees) s += treeExpectation(t, 0);
  return s;
}

function treeExpectation(t: SerializedTree, i: number): number {
  if (t.feature[i] === -1) return t.value[i];
  const l = t.left[i];
  const r = t.right[i];
  const c = t.cover[l] + t.cover[r];
  if (!(c > 0)) return 0.5 * (treeExpectation(t, l) + treeExpectation(t, r));
  return (t.cover[l] * treeExpectation(t, l) + t.cover[r] * treeExpectation(t, r)) / c;
}

/** The unique path of features met from the root: parallel arrays, one entry per path element. */
interface Path {
  feature: Int32Array;
  zero: Float64Array;
  one: Float64Array;
  weight: Float64Array;
}

function newPath(n: number): Path {
  return { feature: new Int32Array(n), zero: new Float64Array(n), one: new Float64Array(n), weight: new Float64Array(n) };
}

function copyPath(src: Path, dst: Path, n: number): void {
  // Plain loops: `set(subarray(…))` allocates four views per call, and this runs once per node per row.
  const sf = src.feature;
  const sz = src.zero;
  const so = src.one;
  const sw = src.weight;
  const df = dst.feature;
  const dz = dst.zero;
  const dOne = dst.one;
  const dw = dst.weight;
  for (let i = 0; i < n; i++) {
    df[i] = sf[i];
    dz[i] = sz[i];
    dOne[i] = so[i];
    dw[i] = sw[i];
  }
}

function extendPath(p: Path, depth: number, zero: number, one: number, feature: number): void {
  p.feature[depth] = feature;
  p.zero[depth] = zero;
  p.one[depth] = one;
  p.weight[depth] = depth === 0 ? 1 : 0;
  for (let i = depth - 1; i >= 0; i--) {
    p.weight[i + 1] += (one * p.weight[i] * (i + 1)) / (depth + 1);
    p.weight[i] = (zero * p.weight[i] * (depth - i)) / (depth + 1);
  }
}

function unwindPath(p: Path, depth: number, pathIndex: number): void {
  const one = p.one[pathIndex];
  const zero = p.zero[pathIndex];
  let next = p.weight[depth];
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = p.weight[i];
      p.weight[i] = (next * (depth + 1)) / ((i + 1) * one);
      next = tmp - (p.weight[i] * zero * (depth - i)) / (depth + 1);
    } else {
      p.weight[i] = (p.weight[i] * (depth + 1)) / (zero * (depth - i));
    }
  }
  for (let i = pathIndex; i < depth; i++) {
    p.feature[i] = p.feature[i + 1];
    p.zero[i] = p.zero[i + 1];
    p.one[i] = p.one[i + 1];
  }
}

function unwoundPathSum(p: Path, depth: number, pathIndex: number): number {
  const one = p.one[pathIndex];
  const zero = p.zero[pathIndex];
  let next = p.weight[depth];
  let total = 0;
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = (next * (depth + 1)) / ((i + 1) * one);
      total += tmp;
      next = p.weight[i] - (tmp * zero * (depth - i)) / (depth + 1);
    } else {
      total += p.weight[i] / zero / ((depth - i) / (depth + 1));
    }
  }
  return total;
}

function treeDepth(t: SerializedTree, i = 0): number {
  return t.feature[i] === -1 ? 0 : 1 + Math.max(treeDepth(t, t.left[i]), treeDepth(t, t.right[i]));
}

function shapRecurse(
  t: SerializedTree,
  row: ArrayLike<number>,
  phi: Float64Array,
  node: number,
  level: number,
  depth: number,
  parent: Path,
  paths: Path[],
  zero: number,
  one: number,
  feature: number,
): void {
  // Each recursion level (tree depth, not path length: unwinding shortens the path) owns a preallocated copy.
  const p = paths[level];
  copyPath(parent, p, depth);
  extendPath(p, depth, zero, one, feature);
  if (t.feature[node] === -1) {
    for (let i = 1; i <= depth; i++) {
      const w = unwoundPathSum(p, depth, i);
      phi[p.feature[i]] += w * (p.one[i] - p.zero[i]) * t.value[node];
    }
    return;
  }
  const split = t.feature[node];
  const hot = childOf(t, node, row);
  const cold = hot === t.left[node] ? t.right[node] : t.left[node];
  const cover = t.cover[node];
  const hotZero = cover > 0 ? t.cover[hot] / cover : 0.5;
  const coldZero = cover > 0 ? t.cover[cold] / cover : 0.5;
  let inZero = 1;
  let inOne = 1;
  // A feature already on the path: undo its earlier split so it is counted once.
  let k = 0;
  while (k <= depth && p.feature[k] !== split) k++;
  let d = depth;
  if (k <= depth) {
    inZero = p.zero[k];
    inOne = p.one[k];
    unwindPath(p, d, k);
    d--;
  }
  shapRecurse(t, row, phi, hot, level + 1, d + 1, p, paths, hotZero * inZero, inOne, split);
  shapRecurse(t, row, phi, cold, level + 1, d + 1, p, paths, coldZero * inZero, 0, split);
}

/** Explains rows with TreeSHAP; reuse one explainer for many rows (it caches depths and the expected value). */
export class TreeShapExplainer {
  readonly expectedValue: number;
  private readonly paths: Path[][];
  private readonly root = newPath(1);

  constructor(private readonly model: TreeEnsemble) {
    this.expectedValue = expectedValue(model);
    this.paths = model.trees.map((t) => {
      const n = treeDepth(t) + 2;
      return Array.from({ length: n + 1 }, () => newPath(n + 1));
    });
  }

  /** Contributions of each feature for one row (raw float values, NaN = missing). */
  explain(row: ArrayLike<number>): ShapExplanation {
    const phi = new Float64Array(this.model.featureNames.length);
    // The root's (empty) parent path is only read for its first 0 elements: one shared instance is enough.
    const root = this.root;
    const trees = this.model.trees;
    for (let ti = 0; ti < trees.length; ti++) shapRecurse(trees[ti], row, phi, 0, 0, 0, root, this.paths[ti], 1, 1, -1);
    return { expectedValue: this.expectedValue, contributions: phi };
  }
}
