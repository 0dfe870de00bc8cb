/**
 * Regression losses on the transformed target. Both have a unit hessian (times the row weight): Huber's exact
 * hessian is 0 in its linear part, which would make leaves there unbounded, so like LightGBM we use 1 and let the
 * clipped gradient do the robust work.
 */
export type LossName = 'squared_error' | 'huber';

export interface Loss {
  readonly name: LossName;
  /** Starting prediction: mean (squared error) or median (Huber), weighted. */
  baseScore(y: Float64Array, w: Float64Array | undefined): number;
  /** Called once per round before gradients (Huber re-estimates its delta from the current residuals). */
  prepareRound(y: Float64Array, pred: Float64Array): void;
  /** Writes gradient and hessian of the loss w.r.t. the prediction for rows 0..n-1. */
  gradients(y: Float64Array, pred: Float64Array, w: Float64Array | undefined, grad: Float64Array, hess: Float64Array): void;
  /** The figure reported to onProgress and used for early stopping (RMSE for squared error, mean Huber loss). */
  evaluate(y: Float64Array, pred: Float64Array, w: Float64Array | undefined): number;
}

export class SquaredErrorLoss implements Loss {
  readonly name = 'squared_error';

  baseScore(y: Float64Array, w: Float64Array | undefined): number {
    let s = 0;
    let sw = 0;
    for (let i = 0; i < y.length; i++) {
      const wi = w ? w[i] : 1;
      s += wi * y[i];
      sw += wi;
    }
    return sw > 0 ? s / sw : 0;
  }

  prepareRound(): void {}

  gradients(y: Float64Array, pred: Float64Array, w: Float64Array | undefined, grad: Float64Array, hess: Float64Array): void {
    const n = y.length;
    if (w) {
      for (let i = 0; i < n; i++) {
        grad[i] = w[i] * (pred[i] - y[i]);
        hess[i] = w[i];
      }
    } else {
      for (let i = 0; i < n; i++) {
        grad[i] = pred[i] - y[i];
        hess[i] = 1;
      }
    }
  }

  evaluate(y: Float64Array, pred: Float64Array, w: Float64Array | undefined): number {
    let s = 0;
    let sw = 0;
    for (let i = 0; i < y.length; i++) {
      const wi = w ? w[i] : 1;
      const r = pred[i] - y[i];
      s += wi * r * r;
      sw += wi;
    }
    return sw > 0 ? Math.sqrt(s / sw) : 0;
  }
}

/**
 * Huber loss: quadratic within ±delta of the target, linear beyond, so a few mis-recorded sales cannot drag the
 * model. With `delta` null, delta is re-estimated each round as the `alpha` quantile of |residual| (Friedman's
 * recipe, as in scikit-learn's GradientBoostingRegressor), which adapts to the target's scale.
 */
export class HuberLoss implements Loss {
  readonly name = 'huber';
  private delta: number;
  /** Delta used for reported losses: fixed after the first round so the early-stopping metric does not drift. */
  private evalDelta: number | null = null;

  constructor(
    private readonly fixedDelta: number | null,
    private readonly alpha = 0.9,
  ) {
    this.delta = fixedDelta ?? 1;
  }

  get currentDelta(): number {
    return this.delta;
  }

  baseScore(y: Float64Array, w: Float64Array | undefined): number {
    return weightedQuantile(y, w, 0.5);
  }

  prepareRound(y: Float64Array, pred: Float64Array): void {
    if (this.fixedDelta !== null) return;
    const abs = new Float64Array(y.length);
    for (let i = 0; i < y.length; i++) abs[i] = Math.abs(y[i] - pred[i]);
    this.delta = Math.max(weightedQuantile(abs, undefined, this.alpha), 1e-12);
    this.evalDelta ??= this.delta;
  }

  gradients(y: Float64Array, pred: Float64Array, w: Float64Array | undefined, grad: Float64Array, hess: Float64Array): void {
    const d = this.delta;
    for (let i = 0; i < y.length; i++) {
      const r = pred[i] - y[i];
      const g = r > d ? d : r < -d ? -d : r;
      const wi = w ? w[i] : 1;
      grad[i] = wi * g;
      hess[i] = wi;
    }
  }

  evaluate(y: Float64Array, pred: Float64Array, w: Float64Array | undefined): number {
    const d = this.evalDelta ?? this.delta;
    let s = 0;
    let sw = 0;
    for (let i = 0; i < y.length; i++) {
      const a = Math.abs(pred[i] - y[i]);
      const wi = w ? w[i] : 1;
      s += wi * (a <= d ? 0.5 * a * a : d * (a - 0.5 * d));
      sw += wi;
    }
    return sw > 0 ? s / sw : 0;
  }
}

/** Weighted quantile (lower interpolation-free definition: smallest value whose cumulative weight reaches q). */
export function weightedQuantile(v: Float64Array, w: Float64Array | undefined, q: number): number {
  const n = v.length;
  if (n === 0) return 0;
  if (!w) {
    const s = Float64Array.from(v).sort();
    const pos = q * (n - 1);
    const lo = Math.floor(pos);
    return lo + 1 < n ? s[lo] + (pos - lo) * (s[lo + 1] - s[lo]) : s[lo];
  }
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => v[a] - v[b]);
  let total = 0;
  for (let i = 0; i < n; i++) total += w[i];
  let cum = 0;
  for (const i of idx) {
    cum += w[i];
    if (cum >= q * total) return v[i];
  }
  return v[idx[n - 1]];
}

export function createLoss(name: LossName, huberDelta: number | null): Loss {
  return name === 'huber' ? new HuberLoss(huberDelta) : new SquaredErrorLoss();
}
