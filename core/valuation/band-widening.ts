import type { ModelManifest } from '../models/model-schemas.js';
import type { StoredModel } from '../models/model-store.js';
import type { NormalizedValue } from '../schema/column-parser.js';
import { FastTreePredictor } from '../learner/model/fast-predictor.js';

/**
 * Where the model knows less about a property than about the sales its band was calibrated on, the band widens
 * and says why. Two cases, each turned into an extra spread in the model's own (transformed) space:
 *
 * - an **unseen category** (a new ZIP code): the trees treat it as unknown, but the property is in fact like one
 *   of the known categories; the spread of the model's estimates over the known categories, weighted by how
 *   often each occurs in training, is the uncertainty that adds;
 * - a **number outside the training range** (a house larger than any sold): the trees predict as at the edge
 *   of the range and cannot extrapolate; the trend the model learned over the outermost decile, continued to the
 *   input, is how far the truth may plausibly lie from that flat estimate.
 *
 * They combine as independent errors with the calibrated half-width q of each level: q' = √(q² + (z·s)² + b²),
 * s² the summed variances over categories, z the normal quantile of the level, b² the summed squared
 * extrapolation distances. This is a first step of per-property intervals (not yet calibrated out of fold); it
 * widens only, never narrows, so the calibrated coverage of ordinary properties is unchanged.
 */
export interface BandWidening {
  /** Extra standard deviation in transformed space from unseen categories (0: none). */
  spread: number;
  /**
   * How far the truth may lie from the trees' flat estimate beyond the training range, in transformed space
   * (0: every input inside it). A distance rather than a deviation, so it widens the band without a z factor.
   */
  bias: number;
  /** One sentence per reason the band is wider, for the valuation's warnings. */
  reasons: string[];
}

/** Widens one property's band: its feature vector, and its input value of a column (to name an unseen category). */
export type BandWidener = (vector: Float32Array, valueOf: (column: string) => NormalizedValue | undefined) => BandWidening;

/** Known values of a category asked about for an unseen one (the most frequent; they hold most sales). */
const MAX_CATEGORIES_ASKED = 32;

export const NO_WIDENING: BandWidening = { spread: 0, bias: 0, reasons: [] };

/**
 * Prepares the widening for one model, once: `predict` gives the model's raw (transformed-space) prediction for
 * each row of a row-major matrix. Properties that need no widening cost one pass over their features.
 */
export function compileBandWidening(manifest: ModelManifest, predict: (X: Float32Array, nRows: number) => Float64Array): BandWidener {
  const t = manifest.featureTransform;
  const reference = new Map(manifest.reference.map((r) => [r.feature, r]));
  const ranges = new Map((manifest.featureRanges ?? []).map((r) => [r.feature, r]));
  return (vector, valueOf) => widen(t, reference, ranges, predict, vector, valueOf);
}

/** The widener of a stored model, from its trees; null for ONNX-only imports (their bands stay as calibrated). */
export function widenerFor(model: StoredModel): BandWidener | null {
  if (!model.ensemble) return null;
  const predictor = new FastTreePredictor(model.ensemble);
  return compileBandWidening(model.manifest, (X, n) => predictor.predict(X, n));
}

function widen(
  t: ModelManifest['featureTransform'],
  reference: Map<string, ModelManifest['reference'][number]>,
  ranges: Map<string, { min: number; max: number }>,
  predict: (X: Float32Array, nRows: number) => Float64Array,
  vector: Float32Array,
  valueOf: (column: string) => NormalizedValue | undefined,
): BandWidening {
  const nF = vector.length;
  if (nF !== t.features.length) return NO_WIDENING; // not this model's features: never guess
  const reasons: string[] = [];
  let variance = 0;
  let extrapolation = 0;
  const at = (changes: [number, number][]): Float32Array => {
    const X = new Float32Array(changes.length * nF);
    changes.forEach(([f, v], i) => {
      X.set(vector, i * nF);
      X[i * nF + f] = v;
    });
    return X;
  };
  t.features.forEach((def, f) => {
    const x = vector[f];
    if (def.spec.op === 'category') {
      const given = valueOf(def.spec.column);
      const counts = reference.get(def.name)?.counts ?? [];
      if (!Number.isNaN(x) || given === null || given === undefined || counts.length < 2) return;
      // The most frequent known values stand for all of them: a batch of another region's file may have an
      // unseen value on every row, and each costs one prediction per value asked about.
      const codes = counts
        .map((n, c) => [c, n])
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1] || a[0] - b[0])
        .slice(0, MAX_CATEGORIES_ASKED);
      const total = codes.reduce((a, [, n]) => a + n, 0);
      if (codes.length < 2 || total <= 0) return;
      const pred = predict(at(codes.map(([c]) => [f, c])), codes.length);
      let mean = 0;
      pred.forEach((p, k) => (mean += (codes[k][1] / total) * p));
      let v = 0;
      pred.forEach((p, k) => (v += (codes[k][1] / total) * (p - mean) ** 2));
      variance += v;
      reasons.push(
        `the band is wider because ${def.spec.column} "${String(given)}" was not seen in training: it allows for the spread of estimates over ${codes.length < counts.length ? `the ${codes.length} most common` : `the ${codes.length}`} known values`,
      );
      return;
    }
    const range = ranges.get(def.name);
    const edges = reference.get(def.name)?.edges ?? [];
    if (!range || Number.isNaN(x) || edges.length === 0 || (x >= range.min && x <= range.max)) return;
    const above = x > range.max;
    const edge = above ? range.max : range.min;
    const inner = above ? edges[edges.length - 1] : edges[0]; // the 90th / 10th percentile of training
    let s = 0;
    if (inner !== edge) {
      const [pEdge, pInner] = predict(
        at([
          [f, edge],
          [f, inner],
        ]),
        2,
      );
      // Sizes and prices scale together: for positive values the trend is continued per ratio (an elasticity),
      // which is what a price proportional to area does; otherwise per unit.
      const positive = x > 0 && edge > 0 && inner > 0;
      const step = positive ? Math.abs(Math.log(edge / inner)) : Math.abs(edge - inner);
      const distance = positive ? Math.abs(Math.log(x / edge)) : Math.abs(x - edge);
      s = (Math.abs(pEdge - pInner) / step) * distance;
    }
    extrapolation += s * s;
    reasons.push(
      `the band is wider because ${def.name} ${round(x)} is ${above ? 'above the largest' : 'below the smallest'} value in training (${round(edge)}): ` +
        `the model cannot extrapolate, so the band allows for the trend it learned near that end continuing`,
    );
  });
  return { spread: Math.sqrt(variance), bias: Math.sqrt(extrapolation), reasons };
}

/** The calibrated half-width of a level, widened as `bandWidening` found (q' = √(q² + (z·spread)² + bias²)). */
export function widenedQuantile(q: number, level: number, w: Pick<BandWidening, 'spread' | 'bias'>): number {
  if (!(w.spread > 0 || w.bias > 0) || !(level > 0 && level < 1)) return q;
  const z = normalQuantile((1 + level) / 2);
  return Math.sqrt(q * q + (z * w.spread) ** 2 + w.bias ** 2);
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile needs 0 < p < 1, got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
