import { invalidInput } from '../common/errors.js';
import { NormalEquations } from './linear-algebra.js';
import type { IndexPoint, IndexSeries, MarketIndex } from './market-schemas.js';
import { fitTrend } from './nowcast.js';
import { MONTHS_PER_PERIOD, periodLabel, periodOfDay, periodStartDay, type IndexPeriod } from './periods.js';
import { repeatSalesIndex } from './repeat-sales.js';

/**
 * A hedonic time-dummy price index (the Eurostat/IMF handbook on residential property price indices, ch. 5):
 * log price regressed on one dummy per period and on the property's characteristics, so the period effects are
 * the change in price of a property held constant — not the change in the mix of what sold. Solved as least
 * squares on the normal equations (a few hundred columns at most), with the standard errors of the period
 * effects giving 95 % bands.
 *
 * Regional indices: each region's deviation from the whole-file path, period by period, is the mean residual of
 * its sales there; it is shrunk toward zero (toward the whole file) by an empirical-Bayes weight
 * τ² / (τ² + σ²/n), τ² the variance of true regional deviations estimated from all regions together. A region
 * with many sales in a period keeps its own movement; one with few borrows the whole file's.
 */
export interface HedonicSales {
  n: number;
  /** Natural log of each sale's price. */
  logPrice: Float64Array;
  /** Sale date, days since 1970-01-01. */
  day: Float64Array;
  /** Numeric characteristics held constant, row-major n × names.length, standardized; NaN = missing. */
  controls: { names: string[]; values: Float64Array };
  /** Categorical characteristics held constant as fixed effects (codes 0..nLevels−1, −1 = missing). */
  effects: { name: string; codes: Int32Array; nLevels: number }[];
  /** Each sale's region (code into names, −1 = none), for per-region indices. */
  region: { column: string; groups: Record<string, string> | null; codes: Int32Array; names: string[] } | null;
  /** Each sale's property identifier, for the repeat-sales cross-check; null when the schema has none. */
  ids: (string | null)[] | null;
}

export interface IndexOptions {
  saleDate: string;
  period: IndexPeriod;
  /** Regions with fewer sales use the whole-file index. Default: max(30, 3 × periods). */
  minSalesPerRegion?: number;
  /** Periods past the reference a valuation may be nowcast to. Default: the months the data covers, 3 to 12. */
  maxNowcastPeriods?: number;
}

/** Fewest periods an index needs: with fewer there is no market movement to measure. */
export const MIN_INDEX_PERIODS = 3;
/** Fewest sales per period on average for an index to mean anything. */
export const MIN_SALES_PER_PERIOD = 10;

/** Small ridge on dummy columns: keeps a rare category or a nearly empty period from making the system singular. */
const RIDGE = 1e-6;

export function estimateMarketIndex(s: HedonicSales, opts: IndexOptions): MarketIndex {
  if (s.n === 0) throw invalidInput('the price index needs sales with a sale date');
  const period = new Int32Array(s.n);
  let first = Infinity;
  let last = -Infinity;
  let lastDay = -Infinity;
  for (let i = 0; i < s.n; i++) {
    period[i] = periodOfDay(s.day[i], opts.period);
    if (period[i] < first) first = period[i];
    if (period[i] > last) last = period[i];
    if (s.day[i] > lastDay) lastDay = s.day[i];
  }
  const nPeriods = last - first + 1;
  const counts = new Int32Array(nPeriods);
  const daySum = new Float64Array(nPeriods);
  for (let i = 0; i < s.n; i++) {
    counts[period[i] - first]++;
    daySum[period[i] - first] += s.day[i];
  }
  // Where each period's level is measured: its sales' mean date (the middle of the period when it has none).
  const centre = Array.from({ length: nPeriods }, (_, t) => {
    const d = counts[t] > 0 ? daySum[t] / counts[t] : (periodStartDay(first + t, opts.period) + periodStartDay(first + t + 1, opts.period)) / 2;
    return new Date(Math.round(d) * 86_400_000).toISOString().slice(0, 10);
  });

  // Columns: intercept | a dummy for each period with sales except the reference (the last) | controls and their
  // missing-value flags | fixed-effect dummies (each effect's most frequent level is its base).
  // The reference period prices are deflated to: the latest one with at least half the median period's sales. A
  // last month cut short (a file ending on the 3rd, a time-ordered fold ending mid-month) is measured too thinly
  // to anchor every other period; it keeps its own estimate after the reference.
  const sortedCounts = Array.from(counts).sort((a, b) => a - b);
  const typical = sortedCounts[sortedCounts.length >> 1];
  let ref = nPeriods - 1;
  while (ref > 0 && counts[ref] * 2 < typical) ref--;
  const periodCol = new Int32Array(nPeriods).fill(-1);
  let p = 1;
  for (let t = 0; t < nPeriods; t++) if (t !== ref && counts[t] > 0) periodCol[t] = p++;
  const k = s.controls.names.length;
  const controlCol = new Int32Array(k);
  const missingCol = new Int32Array(k).fill(-1);
  const anyMissing = new Uint8Array(k);
  for (let i = 0; i < s.n; i++) for (let j = 0; j < k; j++) if (Number.isNaN(s.controls.values[i * k + j])) anyMissing[j] = 1;
  for (let j = 0; j < k; j++) {
    controlCol[j] = p++;
    if (anyMissing[j]) missingCol[j] = p++;
  }
  const effectBase: number[] = [];
  const effectStart: number[] = [];
  for (const e of s.effects) {
    const c = new Int32Array(e.nLevels);
    for (const code of e.codes) if (code >= 0) c[code]++;
    let base = 0;
    for (let l = 1; l < e.nLevels; l++) if (c[l] > c[base]) base = l;
    effectBase.push(base);
    effectStart.push(p);
    p += e.nLevels;
  }
  const ne = new NormalEquations(p);
  const ridge = new Float64Array(p);
  for (let t = 0; t < nPeriods; t++) if (periodCol[t] >= 0) ridge[periodCol[t]] = RIDGE;
  // Controls too: in a small sample (a fold of a few hundred sales) a control can be constant (all 0 once
  // standardised) or a missing-flag equal to the intercept, which made the system singular and training fail. The
  // controls are standardised (diagonal ≈ n), so this ridge moves no identifiable coefficient measurably.
  for (let j = 0; j < k; j++) {
    ridge[controlCol[j]] = RIDGE;
    if (missingCol[j] >= 0) ridge[missingCol[j]] = RIDGE;
  }
  s.effects.forEach((e, ei) => {
    for (let l = 0; l < e.nLevels; l++) ridge[effectStart[ei] + l] = RIDGE;
    // The base level's column stays empty: a unit ridge pins its coefficient at 0.
    ridge[effectStart[ei] + effectBase[ei]] = 1;
  });
  const cols = new Int32Array(p);
  const vals = new Float64Array(p);
  const rowOf = (i: number): number => {
    let len = 0;
    cols[len] = 0;
    vals[len++] = 1;
    const pc = periodCol[period[i] - first];
    if (pc >= 0) {
      cols[len] = pc;
      vals[len++] = 1;
    }
    for (let j = 0; j < k; j++) {
      const v = s.controls.values[i * k + j];
      if (Number.isNaN(v)) {
        cols[len] = missingCol[j];
        vals[len++] = 1;
      } else {
        cols[len] = controlCol[j];
        vals[len++] = v;
      }
    }
    s.effects.forEach((e, ei) => {
      const code = e.codes[i];
      if (code >= 0 && code !== effectBase[ei]) {
        cols[len] = effectStart[ei] + code;
        vals[len++] = 1;
      }
    });
    return len;
  };
  for (let i = 0; i < s.n; i++) ne.add(cols, vals, rowOf(i), s.logPrice[i]);
  const wanted = [...periodCol].filter((c) => c >= 0);
  const fit = ne.solve(ridge, wanted);
  if (!fit) throw invalidInput('the price index could not be estimated: the sales do not separate the periods from the property characteristics');
  const sigma2 = fit.sigma2;

  const logIndex = new Float64Array(nPeriods);
  const se = new Float64Array(nPeriods);
  const known = new Uint8Array(nPeriods);
  known[ref] = 1;
  wanted.forEach((c, w) => {
    const t = periodCol.indexOf(c);
    logIndex[t] = fit.beta[c];
    se[t] = Math.sqrt(fit.variances[w]);
    known[t] = 1;
  });
  fillGaps(logIndex, se, known);
  const labels = Array.from({ length: nPeriods }, (_, t) => periodLabel(first + t, opts.period));
  const points = (li: ArrayLike<number>, sd: ArrayLike<number>, n: ArrayLike<number>): IndexPoint[] =>
    labels.map((label, t) => ({ period: label, logIndex: li[t], se: sd[t], sales: n[t], centre: centre[t] }));
  const whole: IndexSeries = {
    region: null,
    sales: s.n,
    shrinkage: null,
    points: points(logIndex, se, counts),
    trend: fitTrend(logIndex, se, MONTHS_PER_PERIOD[opts.period]),
  };

  const minSales = opts.minSalesPerRegion ?? Math.max(30, 3 * nPeriods);
  // Each sale's fitted log price under the whole-file model, for the regional deviations.
  const fitted = (i: number): number => {
    const len = rowOf(i);
    let v = 0;
    for (let a = 0; a < len; a++) v += fit.beta[cols[a]] * vals[a];
    return v;
  };
  const regions = s.region
    ? regionalIndices(s, period, first, nPeriods, ref, fitted, sigma2, logIndex, se, minSales, points, MONTHS_PER_PERIOD[opts.period])
    : [];
  const repeat = s.ids ? repeatSalesIndex(s.ids, s.logPrice, period, first, nPeriods, ref) : null;
  return {
    format: 'appraise-market-index/1',
    method: 'hedonic-time-dummy',
    period: opts.period,
    saleDate: opts.saleDate,
    region: s.region ? { column: s.region.column, groups: s.region.groups } : null,
    reference: labels[ref],
    lastSaleDate: new Date(lastDay * 86_400_000).toISOString().slice(0, 10),
    // As far ahead as the data reaches back, 3 to 12 months: a trend seen over n months says little beyond n.
    maxNowcastPeriods:
      opts.maxNowcastPeriods ?? Math.floor(Math.max(3, Math.min(12, nPeriods * MONTHS_PER_PERIOD[opts.period])) / MONTHS_PER_PERIOD[opts.period]),
    controls: [...s.controls.names, ...s.effects.map((e) => e.name)],
    residualSd: Math.sqrt(sigma2),
    nSales: s.n,
    whole,
    regions,
    repeatSales: repeat ? { pairs: repeat.pairs, points: points(repeat.logIndex, repeat.se, repeat.counts) } : null,
  };
}

/** Periods without sales (inside the range) get the straight line between their neighbours, with the wider band. */
function fillGaps(li: Float64Array, se: Float64Array, known: Uint8Array): void {
  for (let t = 0; t < li.length; t++) {
    if (known[t]) continue;
    let a = t - 1;
    while (a >= 0 && !known[a]) a--;
    let b = t + 1;
    while (b < li.length && !known[b]) b++;
    if (a < 0) {
      li[t] = li[b];
      se[t] = se[b] * 2;
    } else if (b >= li.length) {
      li[t] = li[a];
      se[t] = se[a] * 2;
    } else {
      const w = (t - a) / (b - a);
      li[t] = li[a] * (1 - w) + li[b] * w;
      se[t] = Math.max(se[a], se[b]) * 1.5;
    }
  }
}

function regionalIndices(
  s: HedonicSales,
  period: Int32Array,
  first: number,
  nPeriods: number,
  ref: number,
  fitted: (i: number) => number,
  sigma2: number,
  wholeIndex: Float64Array,
  wholeSe: Float64Array,
  minSales: number,
  points: (li: ArrayLike<number>, sd: ArrayLike<number>, n: ArrayLike<number>) => IndexPoint[],
  monthsPerPeriod: number,
): IndexSeries[] {
  const r = s.region!;
  const nR = r.names.length;
  const sum = new Float64Array(nR * nPeriods);
  const cnt = new Int32Array(nR * nPeriods);
  const total = new Int32Array(nR);
  for (let i = 0; i < s.n; i++) {
    const code = r.codes[i];
    if (code < 0) continue;
    const resid = s.logPrice[i] - fitted(i);
    const c = code * nPeriods + (period[i] - first);
    sum[c] += resid;
    cnt[c]++;
    total[code]++;
  }
  // τ²: E[d²] = τ² + σ²/n for a cell mean d of n sales, pooled over the cells of regions with enough sales.
  let num = 0;
  let den = 0;
  for (let g = 0; g < nR; g++) {
    if (total[g] < minSales) continue;
    for (let t = 0; t < nPeriods; t++) {
      const n = cnt[g * nPeriods + t];
      if (n === 0) continue;
      const d = sum[g * nPeriods + t] / n;
      num += n * d * d - sigma2;
      den += n;
    }
  }
  const tau2 = den > 0 ? Math.max(0, num / den) : 0;
  const out: IndexSeries[] = [];
  for (let g = 0; g < nR; g++) {
    if (total[g] < minSales) continue;
    const dev = new Float64Array(nPeriods);
    const devVar = new Float64Array(nPeriods);
    const n = new Int32Array(nPeriods);
    let keptWeighted = 0;
    for (let t = 0; t < nPeriods; t++) {
      const c = g * nPeriods + t;
      n[t] = cnt[c];
      if (cnt[c] === 0) {
        devVar[t] = tau2;
        continue;
      }
      const sampling = sigma2 / cnt[c];
      const w = tau2 + sampling > 0 ? tau2 / (tau2 + sampling) : 0;
      dev[t] = (w * sum[c]) / cnt[c];
      devVar[t] = w * sampling;
      keptWeighted += w * cnt[c];
    }
    const li = Float64Array.from(wholeIndex, (v, t) => v + dev[t] - dev[ref]);
    const sd = Float64Array.from(wholeSe, (v, t) => (t === ref ? 0 : Math.sqrt(v * v + devVar[t] + devVar[ref])));
    out.push({ region: r.names[g], sales: total[g], shrinkage: keptWeighted / total[g], points: points(li, sd, n), trend: fitTrend(li, sd, monthsPerPeriod) });
  }
  return out;
}
