import type { TreeEnsemble } from './tree-model.js';

/**
 * A TreeEnsemble flattened into typed arrays for batch prediction. Gives exactly `predictRaw` (same float32
 * comparisons, same summation order: base score, then trees in order), only without per-node object lookups.
 * Category sets become membership bitmaps indexed by code.
 */
export class FastTreePredictor {
  private readonly feature: Int32Array;
  private readonly threshold: Float64Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly defaultLeft: Uint8Array;
  private readonly value: Float64Array;
  /** For categorical nodes: start of the node's membership bitmap in `members`, and its length; −1 for numeric. */
  private readonly catStart: Int32Array;
  private readonly catLength: Int32Array;
  private readonly members: Uint8Array;
  private readonly roots: Int32Array;
  readonly nFeatures: number;
  readonly baseScore: number;

  constructor(model: TreeEnsemble) {
    this.nFeatures = model.featureNames.length;
    this.baseScore = model.baseScore;
    let nNodes = 0;
    let nMembers = 0;
    for (const t of model.trees) {
      nNodes += t.feature.length;
      for (const c of t.categories) if (c && c.length > 0) nMembers += Math.max(...c) + 1;
    }
    this.feature = new Int32Array(nNodes);
    this.threshold = new Float64Array(nNodes);
    this.left = new Int32Array(nNodes);
    this.right = new Int32Array(nNodes);
    this.defaultLeft = new Uint8Array(nNodes);
    this.value = new Float64Array(nNodes);
    this.catStart = new Int32Array(nNodes).fill(-1);
    this.catLength = new Int32Array(nNodes);
    this.members = new Uint8Array(nMembers);
    this.roots = new Int32Array(model.trees.length);
    let o = 0;
    let m = 0;
    model.trees.forEach((t, ti) => {
      this.roots[ti] = o;
      for (let i = 0; i < t.feature.length; i++) {
        const g = o + i;
        this.feature[g] = t.feature[i];
        this.threshold[g] = t.threshold[i];
        this.left[g] = t.left[i] + o;
        this.right[g] = t.right[i] + o;
        this.defaultLeft[g] = t.defaultLeft[i];
        this.value[g] = t.value[i];
        const cats = t.categories[i];
        if (cats) {
          this.catStart[g] = m;
          const len = cats.length > 0 ? Math.max(...cats) + 1 : 0;
          this.catLength[g] = len;
          for (const c of cats) this.members[m + c] = 1;
          m += len;
        }
      }
      o += t.feature.length;
    });
  }

  /** Predictions (transformed-target space) for nRows rows of a row-major float32 matrix. */
  predict(X: Float32Array, nRows: number, out = new Float64Array(nRows)): Float64Array {
    // The walk of leafOf, inlined with the arrays in locals and X known to be a Float32Array (its values are
    // already float32): the monitoring report runs two loss ensembles over a large share of the prediction log
    // through this loop (the report took 10.1 s with the call per tree and row, 8.6 s inlined; monitor bench).
    const nF = this.nFeatures;
    const { feature, threshold, left, right, defaultLeft, value, catStart, catLength, members, roots } = this;
    for (let r = 0; r < nRows; r++) out[r] = this.baseScore;
    for (let ti = 0; ti < roots.length; ti++) {
      const root = roots[ti];
      for (let r = 0, base = 0; r < nRows; r++, base += nF) {
        let i = root;
        let f = feature[i];
        while (f !== -1) {
          const x = X[base + f];
          let goLeft: boolean;
          if (x !== x) goLeft = defaultLeft[i] === 1;
          else if (catStart[i] < 0) goLeft = x <= threshold[i];
          else goLeft = x >= 0 && x < catLength[i] && Number.isInteger(x) && members[catStart[i] + x] === 1;
          i = goLeft ? left[i] : right[i];
          f = feature[i];
        }
        out[r] += value[i];
      }
    }
    return out;
  }

  /** Prediction of one row (offset `base` into X). */
  predictRow(X: ArrayLike<number>, base = 0): number {
    let s = this.baseScore;
    for (let ti = 0; ti < this.roots.length; ti++) s += this.value[this.leafOf(this.roots[ti], X, base)];
    return s;
  }

  private leafOf(root: number, X: ArrayLike<number>, base: number): number {
    const { feature, threshold, left, right, defaultLeft, catStart, catLength, members } = this;
    let i = root;
    while (feature[i] !== -1) {
      const x = Math.fround(X[base + feature[i]]);
      let goLeft: boolean;
      if (x !== x) goLeft = defaultLeft[i] === 1;
      else if (catStart[i] < 0) goLeft = x <= threshold[i];
      else goLeft = x >= 0 && x < catLength[i] && Number.isInteger(x) && members[catStart[i] + x] === 1;
      i = goLeft ? left[i] : right[i];
    }
    return i;
  }
}
