import { median, ratioStatistics } from '../training/accuracy-metrics.js';

/** The IAAO ratio-study statistics of one group of sold properties (ratio = estimate / sale price). */
export interface RatioStudy {
  n: number;
  medianRatio: number;
  /** Coefficient of dispersion about the median ratio, in percent. */
  cod: number;
  /** Price-related differential: mean ratio / weighted mean ratio. */
  prd: number;
  /** Price-related bias (IAAO 2013): % change in ratio when value doubles; null below 3 sales or with no spread in value. */
  prb: number | null;
  /** 95 % confidence interval of PRB (± 1.96 standard errors). */
  prbLow: number | null;
  prbHigh: number | null;
  /** Median absolute percentage error, as a fraction. */
  mdape: number;
  /** Share of estimates within 10 % of the sale price. */
  within10: number;
  /** Share of sale prices inside the logged interval (null when no interval was logged). */
  intervalCoverage: number | null;
}

/**
 * Median ratio, COD, PRD and PRB as the IAAO Standard on Ratio Studies (2013) defines them. PRB regresses
 * (ratio − median)/median on log₂ of a value proxy halfway between sale price and estimate (estimate divided by
 * the median ratio), so neither the assessed value nor the price alone drives the slope.
 */
export function ratioStudy(estimate: ArrayLike<number>, price: ArrayLike<number>, interval?: { low: ArrayLike<number>; high: ArrayLike<number> }): RatioStudy {
  const n = estimate.length;
  if (n === 0) throw new Error('ratioStudy needs at least one sale');
  const ratios = new Float64Array(n);
  const apes = new Float64Array(n);
  let sumE = 0;
  let sumP = 0;
  let w10 = 0;
  let covered = 0;
  let withInterval = 0;
  for (let i = 0; i < n; i++) {
    ratios[i] = estimate[i] / price[i];
    apes[i] = Math.abs(estimate[i] - price[i]) / price[i];
    if (apes[i] <= 0.1) w10++;
    sumE += estimate[i];
    sumP += price[i];
    if (interval && Number.isFinite(interval.low[i]) && Number.isFinite(interval.high[i])) {
      withInterval++;
      if (price[i] >= interval.low[i] && price[i] <= interval.high[i]) covered++;
    }
  }
  // A sorted copy: PRB below needs the ratios in sale order.
  const { medianRatio, cod, prd } = ratioStatistics(Float64Array.from(ratios), sumE, sumP);
  const prb = priceRelatedBias(ratios, estimate, price, medianRatio);
  return {
    n,
    medianRatio,
    cod,
    prd,
    ...prb,
    mdape: median(apes.sort()),
    within10: w10 / n,
    intervalCoverage: withInterval > 0 ? covered / withInterval : null,
  };
}

function priceRelatedBias(ratios: Float64Array, estimate: ArrayLike<number>, price: ArrayLike<number>, med: number) {
  const n = ratios.length;
  const none = { prb: null, prbLow: null, prbHigh: null };
  if (n < 3) return none;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    x[i] = Math.log2(0.5 * (estimate[i] / med) + 0.5 * price[i]);
    y[i] = (ratios[i] - med) / med;
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (x[i] - mx) ** 2;
    sxy += (x[i] - mx) * (y[i] - my);
  }
  if (sxx <= 0) return none;
  const slope = sxy / sxx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (y[i] - my - slope * (x[i] - mx)) ** 2;
  const se = Math.sqrt(sse / (n - 2) / sxx);
  return { prb: slope, prbLow: slope - 1.96 * se, prbHigh: slope + 1.96 * se };
}

/**
 * Sale-price tiers for vertical equity: `tiers` groups cut at sale-price quantiles, lowest first. Returns each
 * sale's tier and the upper bound of each tier.
 */
export function priceTiers(price: ArrayLike<number>, tiers: number): { tierOf: Int32Array; bounds: number[] } {
  const sorted = Float64Array.from(price).sort();
  const bounds = Array.from({ length: tiers - 1 }, (_, j) => sorted[Math.min(sorted.length - 1, Math.floor(((j + 1) * sorted.length) / tiers))]);
  const tierOf = new Int32Array(price.length);
  for (let i = 0; i < price.length; i++) {
    let t = 0;
    while (t < bounds.length && price[i] >= bounds[t]) t++;
    tierOf[i] = t;
  }
  bounds.push(sorted[sorted.length - 1] ?? NaN);
  return { tierOf, bounds };
}
