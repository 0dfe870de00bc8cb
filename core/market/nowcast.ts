import type { TrendState } from './market-schemas.js';

/**
 * A damped local linear trend on the log index (a state-space model, filtered with a Kalman filter): level and
 * slope both drift as random walks, the slope fading by a damping factor each period, and each period's index is
 * observed with its own standard error. Beyond the last period the forecast follows the (damped) slope and its
 * variance grows with the horizon — from the level's and slope's drift and from not knowing today's slope
 * exactly. The noise variances and the damping are chosen from the index itself, so nothing is tuned to one
 * market: by a rolling-origin backtest where the index is long enough (below), else by maximum likelihood.
 */

const LEVEL_NOISE = [0, 0.002, 0.005, 0.01, 0.02, 0.04];
const SLOPE_NOISE = [0, 0.001, 0.003, 0.01];
const DAMPING = [1, 0.9, 0.75];
/**
 * Dampings the backtest chooses among: down to 0, a level with no trend at all — the honest forecast when the
 * index's past turns say its recent slope does not last.
 */
const BACKTEST_DAMPING = [1, 0.9, 0.75, 0.5, 0];
/** Periods ahead each backtest origin forecasts: about as far as a time-ordered block or a near valuation reaches. */
export const BACKTEST_HORIZON = 3;
/**
 * Half-life, in periods, of a backtest origin's weight: a market's last turns say more about its next months
 * than its first ones do (the recent-weighted local trend of the issue).
 */
export const BACKTEST_HALF_LIFE = 3;
/** Fewest backtest origins (each with at least one period after it) for the backtest to choose; else likelihood. */
export const MIN_BACKTEST_ORIGINS = 2;
/** First origin of the backtest: the filter needs two levels before its slope means anything. */
const FIRST_ORIGIN = 2;
/** Floor of an observation's variance: the reference period is exact by definition, but a filter needs some noise. */
const MIN_OBS_VARIANCE = 1e-8;
/**
 * Prior standard deviation of the slope, per month: house prices rarely move more than a few percent a month, so
 * a trend seen over a few noisy periods is not extrapolated at face value. Weakly informative — a year of data
 * outweighs it — and scaled to the period (per quarter it is three times as wide).
 */
export const SLOPE_PRIOR_SD_PER_MONTH = 0.01;

interface FilterResult {
  logLik: number;
  state: TrendState;
}

function filter(
  y: ArrayLike<number>,
  se: ArrayLike<number>,
  levelNoise: number,
  slopeNoise: number,
  damping: number,
  slopePrior: number,
  /** Filter only the first `upto` levels (a backtest origin); default all. */
  upto = y.length,
): FilterResult {
  let l = y[0];
  let b = 0;
  // P = [[p00, p01], [p01, p11]]
  let p00 = se[0] ** 2 + MIN_OBS_VARIANCE;
  let p01 = 0;
  let p11 = slopePrior ** 2;
  let logLik = 0;
  const ql = levelNoise ** 2;
  const qs = slopeNoise ** 2;
  const phi = damping;
  for (let t = 1; t < upto; t++) {
    // Predict: x = F x, P = F P Fᵀ + Q with F = [[1, φ], [0, φ]].
    const lp = l + phi * b;
    const bp = phi * b;
    const a00 = p00 + 2 * phi * p01 + phi * phi * p11 + ql;
    const a01 = phi * p01 + phi * phi * p11;
    const a11 = phi * phi * p11 + qs;
    // Update with the observation of the level.
    const r = Math.max(MIN_OBS_VARIANCE, se[t] ** 2);
    const s = a00 + r;
    const v = y[t] - lp;
    // The first update after the start only pins down the slope: its surprise is not evidence for the parameters.
    if (t >= 2) logLik += -0.5 * (Math.log(2 * Math.PI * s) + (v * v) / s);
    const k0 = a00 / s;
    const k1 = a01 / s;
    l = lp + k0 * v;
    b = bp + k1 * v;
    p00 = a00 - k0 * a00;
    p01 = a01 - k0 * a01;
    p11 = a11 - k1 * a01;
  }
  return { logLik, state: { level: l, slope: b, cov: [p00, p01, p11], levelNoise, slopeNoise, damping } };
}

/**
 * Fits the trend to an index's log levels (oldest first) and their standard errors. With fewer than three
 * periods there is no trend to speak of: the state is the last level with no slope and a wide slope variance.
 */
export function fitTrend(logIndex: ArrayLike<number>, se: ArrayLike<number>, monthsPerPeriod = 1): TrendState {
  const slopePrior = SLOPE_PRIOR_SD_PER_MONTH * monthsPerPeriod;
  const n = logIndex.length;
  if (n === 0) return { level: 0, slope: 0, cov: [0, 0, 0.01 ** 2], levelNoise: 0.01, slopeNoise: 0.003, damping: 1 };
  if (n < 3) return { level: logIndex[n - 1], slope: 0, cov: [se[n - 1] ** 2, 0, 0.01 ** 2], levelNoise: 0.01, slopeNoise: 0.003, damping: 1 };
  const chosen = backtestChoice(logIndex, se, slopePrior);
  if (chosen) return filter(logIndex, se, chosen.levelNoise, chosen.slopeNoise, chosen.damping, slopePrior).state;
  let best: FilterResult | null = null;
  for (const ln of LEVEL_NOISE)
    for (const sn of SLOPE_NOISE)
      for (const d of DAMPING) {
        // A model with no noise at all is a straight line through noisy points: it always claims too much.
        if (ln === 0 && sn === 0) continue;
        const r = filter(logIndex, se, ln, sn, d, slopePrior);
        if (!best || r.logLik > best.logLik + 1e-9) best = r;
      }
  return best!.state;
}

/**
 * The trend settings whose forecasts would have done best on the index's own past: from each origin o (the
 * filter run on levels 0..o only), the forecasts 1..BACKTEST_HORIZON periods on are compared with the levels
 * the index then measured, squared errors weighted by the origin's recency. Likelihood alone rewards the
 * settings that fit the path so far; a market that turns (a seasonal spring rise after a fall decline) is better
 * served by the settings that forecast well, and which those are is the data's to say. Null with too few origins.
 */
export function backtestChoice(
  logIndex: ArrayLike<number>,
  se: ArrayLike<number>,
  slopePrior: number,
): { levelNoise: number; slopeNoise: number; damping: number; error: number } | null {
  const n = logIndex.length;
  if (n - 1 - FIRST_ORIGIN < MIN_BACKTEST_ORIGINS) return null;
  let best: { levelNoise: number; slopeNoise: number; damping: number; error: number } | null = null;
  for (const ln of LEVEL_NOISE)
    for (const sn of SLOPE_NOISE)
      for (const d of BACKTEST_DAMPING) {
        if (ln === 0 && sn === 0) continue;
        let err = 0;
        let weight = 0;
        for (let o = FIRST_ORIGIN; o < n - 1; o++) {
          const st = filter(logIndex, se, ln, sn, d, slopePrior, o + 1).state;
          const w = Math.pow(0.5, (n - 1 - o) / BACKTEST_HALF_LIFE);
          let l = st.level;
          let b = st.slope;
          for (let h = 1; h <= BACKTEST_HORIZON && o + h < n; h++) {
            l += d * b;
            b *= d;
            err += w * (logIndex[o + h] - l) ** 2;
            weight += w;
          }
        }
        const error = err / weight;
        if (!best || error < best.error - 1e-12) best = { levelNoise: ln, slopeNoise: sn, damping: d, error };
      }
  return best;
}

/**
 * The trend's forecast `h` periods past its last one (h ≥ 0, fractional allowed: a date between two periods
 * gets the straight line between their forecasts, mean and variance): the log index and its standard deviation.
 */
export function forecastTrend(state: TrendState, h: number): { logIndex: number; sd: number } {
  if (!(h > 0)) return { logIndex: state.level, sd: Math.sqrt(Math.max(0, state.cov[0])) };
  const lo = Math.floor(h);
  if (lo === h) return forecastSteps(state, h);
  const a = forecastSteps(state, lo);
  const b = forecastSteps(state, lo + 1);
  const w = h - lo;
  return { logIndex: a.logIndex * (1 - w) + b.logIndex * w, sd: Math.sqrt(a.sd ** 2 * (1 - w) + b.sd ** 2 * w) };
}

function forecastSteps(state: TrendState, h: number): { logIndex: number; sd: number } {
  let l = state.level;
  let b = state.slope;
  let [p00, p01, p11] = state.cov;
  const phi = state.damping;
  for (let k = 0; k < h; k++) {
    l = l + phi * b;
    b = phi * b;
    const a00 = p00 + 2 * phi * p01 + phi * phi * p11 + state.levelNoise ** 2;
    const a01 = phi * p01 + phi * phi * p11;
    const a11 = phi * phi * p11 + state.slopeNoise ** 2;
    p00 = a00;
    p01 = a01;
    p11 = a11;
  }
  return { logIndex: l, sd: Math.sqrt(Math.max(0, p00)) };
}
