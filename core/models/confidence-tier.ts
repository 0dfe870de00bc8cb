import type { ConfidenceTier } from './model-schemas.js';

/**
 * The AVM confidence statement as the industry gives it: the forecast standard deviation (FSD, the standard
 * deviation of the ratio estimate / sale price, in % of the estimate) and a tier from fixed FSD bounds.
 *
 * The bounds are the ones lenders and AVM vendors use, not figures chosen on any dataset: an FSD of 13 % or less
 * (a "confidence score" of 87 or more) is the usual cut-off for relying on an AVM alone — High; up to 20 % the
 * estimate supports a review but not a decision on its own — Medium; beyond 20 % (one sale in three more than a
 * fifth away) — Low. Fixed bounds keep tiers comparable between models and regions.
 */
export const TIER_BOUNDS = { high: 0.13, medium: 0.2 } as const;

export function tierOf(fsd: number, bounds: { high: number; medium: number } = TIER_BOUNDS): ConfidenceTier {
  if (!(fsd <= bounds.medium)) return 'Low'; // NaN is Low: an FSD that cannot be stated earns no confidence
  return fsd <= bounds.high ? 'High' : 'Medium';
}

export const TIERS: ConfidenceTier[] = ['High', 'Medium', 'Low'];

/**
 * How a unit of error in the model's transformed space (log price, price, log1p price) moves the log of the
 * price at an estimate: 1 for a log target, 1/estimate for an untransformed one. FSD in % of the estimate is
 * this slope times the spread in transformed space.
 */
export function relativeSlope(raw: number, inverse: (t: number) => number): number {
  const h = 1e-4 * Math.max(1, Math.abs(raw));
  const hi = inverse(raw + h);
  const lo = inverse(raw - h);
  const mid = inverse(raw);
  if (!(mid > 0) || !(hi > 0) || !(lo > 0)) return NaN;
  return (Math.log(hi) - Math.log(lo)) / (2 * h);
}

/**
 * The FSD scale on sales with known prices: c with c² = mean(((estimate/price − 1) / ρ)²), ρ the relative
 * difficulty σ̂·J of each sale, so that c·ρ(x) is the root-mean-square deviation of estimate/price from 1 for
 * properties of that difficulty — the standard deviation of the ratio when the model is unbiased, and larger
 * (never smaller) when it is not. Sales with a non-positive price are left out (a ratio is undefined).
 */
export function fsdScale(estimate: ArrayLike<number>, price: ArrayLike<number>, relativeDifficulty: ArrayLike<number>): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < price.length; i++) {
    const rho = relativeDifficulty[i];
    if (!(price[i] > 0) || !(rho > 0) || !Number.isFinite(estimate[i])) continue;
    s += ((estimate[i] / price[i] - 1) / rho) ** 2;
    n++;
  }
  return n > 0 ? Math.sqrt(s / n) : NaN;
}
