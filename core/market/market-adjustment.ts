import { AppraiseError } from '../common/errors.js';
import type { IndexSeries, MarketIndex } from './market-schemas.js';
import { forecastTrend } from './nowcast.js';
import { DAYS_PER_PERIOD, MONTHS_PER_PERIOD, periodFromLabel, periodLabel, periodOfDay, periodStartDay } from './periods.js';

/** Where a date falls against an index, and the log factor that takes a reference-period price there. */
export interface MarketAdjustment {
  /** log(index at the date / index at the reference period). */
  logFactor: number;
  /** Standard deviation of logFactor that the valuation's band does not already hold: the nowcast's (0 inside). */
  sd: number;
  /** 'index': inside the data; 'nowcast': after the last period; 'before': before the first (its level is used). */
  kind: 'index' | 'nowcast' | 'before';
  /** Periods after the reference (nowcast only; 0 otherwise). */
  periodsAhead: number;
  period: string;
  /** The region whose index was used; null for the whole file. */
  region: string | null;
}

/** The region series a property belongs to: its region column's value (or that value's group), else none. */
export function seriesFor(index: MarketIndex, regionValue: unknown): IndexSeries {
  if (!index.region || regionValue === null || regionValue === undefined || regionValue === '') return index.whole;
  const raw = String(regionValue);
  const name = index.region.groups ? index.region.groups[raw] : raw;
  return (name !== undefined && index.regions.find((r) => r.region === name)) || index.whole;
}

/**
 * The adjustment for a day (days since 1970), without any horizon check (for scoring folds in training). Each
 * period's level sits at its sales' mean date; between two such centres the level is interpolated; after the
 * last one the trend carries it on, by the fraction of a period elapsed — inside the reference period that is the
 * index (no nowcast band), after it the nowcast.
 */
export function adjustmentAtDay(index: MarketIndex, series: IndexSeries, day: number): MarketAdjustment {
  const p = periodOfDay(day, index.period);
  const pts = series.points;
  const first = periodFromLabel(pts[0].period, index.period);
  // The last period with sales (the reference may be earlier, when the last is thin): the nowcast starts after it.
  const lastPeriod = first + pts.length - 1;
  const centre = pts.map((pt, t) =>
    pt.centre ? Date.parse(`${pt.centre}T00:00:00Z`) / 86_400_000 : (periodStartDay(first + t, index.period) + periodStartDay(first + t + 1, index.period)) / 2,
  );
  const periodOf = (t: number) => pts[Math.min(pts.length - 1, Math.max(0, t))].period;
  const base = { region: series.region, period: periodOf(p - first) };
  if (p < first) return { ...base, logFactor: pts[0].logIndex, sd: 0, kind: 'before', periodsAhead: 0 };
  const last = pts.length - 1;
  if (day <= centre[0]) return { ...base, logFactor: pts[0].logIndex, sd: 0, kind: 'index', periodsAhead: 0 };
  if (day <= centre[last]) {
    let t = 0;
    while (t < last - 1 && day > centre[t + 1]) t++;
    const w = centre[t + 1] > centre[t] ? (day - centre[t]) / (centre[t + 1] - centre[t]) : 1;
    return { ...base, logFactor: pts[t].logIndex * (1 - w) + pts[t + 1].logIndex * w, sd: 0, kind: 'index', periodsAhead: 0 };
  }
  const f = forecastTrend(series.trend, (day - centre[last]) / DAYS_PER_PERIOD[index.period]);
  if (p <= lastPeriod) return { ...base, logFactor: f.logIndex, sd: 0, kind: 'index', periodsAhead: 0 };
  return { ...base, period: periodLabel(p, index.period), logFactor: f.logIndex, sd: f.sd, kind: 'nowcast', periodsAhead: p - lastPeriod };
}

/**
 * The adjustment for a valuation dated `iso` (YYYY-MM-DD). Beyond the index's horizon it refuses: a nowcast
 * that far out is a guess, and the model's honest answer is that it needs newer sales.
 */
export function adjustmentAtDate(index: MarketIndex, regionValue: unknown, iso: string): MarketAdjustment {
  const series = seriesFor(index, regionValue);
  const a = adjustmentAtDay(index, series, Date.parse(`${iso.slice(0, 10)}T00:00:00Z`) / 86_400_000);
  if (a.kind === 'nowcast' && a.periodsAhead > index.maxNowcastPeriods) {
    const months = a.periodsAhead * MONTHS_PER_PERIOD[index.period];
    const limit = index.maxNowcastPeriods * MONTHS_PER_PERIOD[index.period];
    throw new AppraiseError(
      'INVALID_INPUT',
      `the valuation date ${iso} is ${months} month(s) after the last sale this model learned from (${index.lastSaleDate}); ` +
        `the local price index can be carried forward at most ${limit} month(s), and a value further out would be a guess. ` +
        `Retrain the model with newer sales (appraise train DATASET), or value at an earlier date.`,
      { details: [{ field: 'valuationDate', message: `at most ${limit} month(s) after ${index.lastSaleDate}` }] },
    );
  }
  return a;
}
