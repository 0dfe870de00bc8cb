import type { ConfidenceTier, ModelManifest } from '../models/model-schemas.js';
import { FastTreePredictor } from '../learner/model/fast-predictor.js';
import { intervalAround } from '../training/conformal-intervals.js';
import { normalQuantile, widenedQuantile, type BandWidening } from './band-widening.js';
import { relativeSlope, tierOf } from '../models/confidence-tier.js';

/**
 * One property's band, FSD and confidence tier, the same for a single valuation and a batch row.
 *
 * A model with per-property intervals (core/training/normalised-conformal.ts) gives each property its own
 * half-width q·σ̂(x), q the calibrated quantile of its tier; older models, and models recalibrated on local sales
 * (`appraise models calibrate`), keep their one global half-width q. Either is then widened as band-widening
 * says (unseen categories, inputs beyond the training range, the nowcast) and by `scale` (sparse neighbourhoods).
 *
 * FSD: with per-property intervals, fsdScale·σ̂(x) (the root-mean-square deviation of estimate/price from 1 on
 * calibration sales of that difficulty); with a global band, q/z of the 80 % level (a normal error of that band).
 * The widening's spreads add to it in quadrature, so a wider band always states a larger FSD and never a
 * better tier.
 */
export interface PropertyBand {
  intervals: { level: number; low: number; high: number }[];
  /** Forecast standard deviation as a fraction of the estimate (0.12 = 12 %); null when the model has no band. */
  fsd: number | null;
  confidenceTier: ConfidenceTier | null;
}

export interface BandRequest {
  /** The model's raw (transformed-space) estimate, at the valuation date. */
  raw: number;
  widening: Pick<BandWidening, 'spread' | 'bias'>;
  /** Multiplies the calibrated half-width and the FSD before widening (≥ 1; 1: none). */
  scale?: number;
}

export type BandMaker = (vector: Float32Array, request: BandRequest) => PropertyBand;

/** Whether a model's bands are per property (otherwise: its global band). */
export function hasPropertyIntervals(manifest: ModelManifest): boolean {
  return manifest.propertyIntervals !== undefined && manifest.calibration === undefined;
}

export function compilePropertyBand(manifest: ModelManifest, inverse: (t: number) => number): BandMaker {
  const levels = [...manifest.intervals].sort((a, b) => a.level - b.level);
  const p = hasPropertyIntervals(manifest) ? manifest.propertyIntervals! : null;
  const predictor = p ? new FastTreePredictor(p.difficulty) : null;
  return (vector, { raw, widening, scale = 1 }) => {
    const slope = relativeSlope(raw, inverse);
    const extra = widening.spread ** 2 + widening.bias ** 2;
    if (p && predictor) {
      const sigma = Math.max(p.floor, predictor.predict(vector, 1)[0]) * scale;
      const baseTier = tierOf(p.fsdScale * sigma * slope, p.tiers);
      const intervals = p.levels.map((l) => ({
        level: l.level,
        ...intervalAround(raw, widenedQuantile((l.byTier[baseTier] ?? l.quantile) * sigma, l.level, widening), inverse),
      }));
      const fsd = slope * Math.sqrt((p.fsdScale * sigma) ** 2 + extra);
      return { intervals, fsd: finite(fsd), confidenceTier: Number.isFinite(fsd) ? tierOf(fsd, p.tiers) : null };
    }
    const intervals = levels.map((c) => ({ level: c.level, ...intervalAround(raw, widenedQuantile(c.quantile * scale, c.level, widening), inverse) }));
    const primary = levels.find((c) => c.level === 0.8) ?? levels[0];
    if (!primary || !(primary.level > 0 && primary.level < 1)) return { intervals, fsd: null, confidenceTier: null };
    const fsd = slope * Math.sqrt(((primary.quantile * scale) / normalQuantile((1 + primary.level) / 2)) ** 2 + extra);
    return { intervals, fsd: finite(fsd), confidenceTier: Number.isFinite(fsd) ? tierOf(fsd) : null };
  };
}

function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
