/**
 * The little dense linear algebra the price indices need: normal equations of a few hundred columns at most,
 * solved by Cholesky. Written here rather than imported because it is a few dozen lines and has to run in every
 * process Appraise runs in (no native numerics).
 */

/** A symmetric positive-definite matrix, row-major n × n, factored in place into its lower Cholesky factor. */
export function choleskyInPlace(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0)) return false;
    const l = Math.sqrt(d);
    a[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / l;
    }
    for (let i = 0; i < j; i++) a[i * n + j] = 0;
  }
  return true;
}

/** Solves L Lᵀ x = b for x, L from `choleskyInPlace`. */
export function choleskySolve(l: Float64Array, n: number, b: Float64Array): Float64Array {
  const y = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    let s = y[i];
    for (let k = 0; k < i; k++) s -= l[i * n + k] * y[k];
    y[i] = s / l[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * y[k];
    y[i] = s / l[i * n + i];
  }
  return y;
}

/** Diagonal of (L Lᵀ)⁻¹ for the given indices: one triangular solve per wanted column. */
export function inverseDiagonal(l: Float64Array, n: number, indices: number[]): Float64Array {
  const out = new Float64Array(indices.length);
  const e = new Float64Array(n);
  indices.forEach((j, k) => {
    e.fill(0);
    e[j] = 1;
    out[k] = choleskySolve(l, n, e)[j];
  });
  return out;
}

/**
 * Least squares with normal equations built row by row from sparse rows (column indices and values), with a
 * small ridge on the columns that ask for it (dummies that may be nearly empty). Returns the coefficients, the
 * residual variance and the variances of the coefficients asked for. Throws nothing: null when singular.
 */
export class NormalEquations {
  readonly xtx: Float64Array;
  readonly xty: Float64Array;
  n = 0;
  yy = 0;

  constructor(readonly p: number) {
    this.xtx = new Float64Array(p * p);
    this.xty = new Float64Array(p);
  }

  add(cols: ArrayLike<number>, vals: ArrayLike<number>, len: number, y: number, w = 1): void {
    const p = this.p;
    for (let a = 0; a < len; a++) {
      const ca = cols[a];
      const va = vals[a] * w;
      this.xty[ca] += va * y;
      for (let b = 0; b < len; b++) this.xtx[ca * p + cols[b]] += va * vals[b];
    }
    this.n += w;
    this.yy += w * y * y;
  }

  /** β = (XᵀX + ridge)⁻¹ Xᵀy, with σ² = RSS / (n − p) and Var(β_j) = σ² [(XᵀX + ridge)⁻¹]_jj for `varianceOf`. */
  solve(ridge: Float64Array, varianceOf: number[]): { beta: Float64Array; sigma2: number; variances: Float64Array } | null {
    const p = this.p;
    const a = Float64Array.from(this.xtx);
    for (let j = 0; j < p; j++) a[j * p + j] += ridge[j];
    if (!choleskyInPlace(a, p)) return null;
    const beta = choleskySolve(a, p, this.xty);
    // RSS = yᵀy − 2βᵀXᵀy + βᵀXᵀXβ (the unridged XᵀX), without a second pass over the rows.
    let bxty = 0;
    let bxxb = 0;
    for (let i = 0; i < p; i++) {
      bxty += beta[i] * this.xty[i];
      let s = 0;
      for (let j = 0; j < p; j++) s += this.xtx[i * p + j] * beta[j];
      bxxb += beta[i] * s;
    }
    const rss = Math.max(0, this.yy - 2 * bxty + bxxb);
    const dof = Math.max(1, this.n - p);
    const sigma2 = rss / dof;
    const inv = inverseDiagonal(a, p, varianceOf);
    return { beta, sigma2, variances: inv.map((v) => v * sigma2) };
  }
}
