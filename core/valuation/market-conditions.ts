import type { CompiledTransform } from '../features/feature-transform.js';
import { adjustmentAtDate, adjustmentAtDay, seriesFor, type MarketAdjustment } from '../market/market-adjustment.js';
import type { MarketIndex } from '../market/market-schemas.js';
import { MONTHS_PER_PERIOD } from '../market/periods.js';
import type { NormalizedValue } from '../schema/column-parser.js';
import { widenedQuantile, type BandWidening } from './band-widening.js';

/**
 * Market conditions for a valuation by a model trained on deflated prices (core/market): its trees give the
 * value at the index's reference period; the valuation moves it to its own date by the index (inside the data
 * the meaning is unchanged: the value at that date's market level), by the nowcast after the last sale (the
 * band widens by the nowcast's uncertainty and a warning says by how much), and refuses past the horizon.
 */

/** The name the market-conditions adjustment goes by among the reasons and in the grid's time row. */
export const MARKET_FEATURE = 'market_conditions';

export interface MarketConditions {
  adjustment: MarketAdjustment;
  /**
   * The date the model's own date features are computed at: the last sale it learned from. Its trees learned
   * prices deflated to that period, so any pattern they hold over the sale date is noise of the sample's mix, not
   * market movement; the index alone carries the market to the valuation date (and trees cannot extrapolate a
   * date anyway).
   */
  featureDate: string;
}

export function marketConditionsFor(
  index: MarketIndex,
  range: { first: string; last: string } | null | undefined,
  values: Record<string, NormalizedValue>,
  valuationDate: string,
): MarketConditions {
  const regionValue = index.region ? values[index.region.column] : null;
  const adjustment = adjustmentAtDate(index, regionValue, valuationDate);
  const featureDate = range?.last ?? valuationDate;
  return { adjustment, featureDate };
}

/** The market adjustment of a comparable sold on `saleDate` (no horizon: it sold inside the data). */
export function comparableAdjustment(index: MarketIndex, values: Record<string, NormalizedValue>, saleDate: string | null): MarketAdjustment | null {
  if (!saleDate) return null;
  const series = seriesFor(index, index.region ? values[index.region.column] : null);
  return adjustmentAtDay(index, series, Date.parse(`${saleDate.slice(0, 10)}T00:00:00Z`) / 86_400_000);
}

/** A constant-date estimate moved by a log factor (×exp(factor) in currency), in both spaces. */
export function reinflated(both: { raw: number; estimate: number }, logFactor: number, compiled: CompiledTransform): { raw: number; estimate: number } {
  if (logFactor === 0) return both;
  const estimate = both.estimate * Math.exp(logFactor);
  return { raw: compiled.target(estimate), estimate };
}

/**
 * The nowcast's uncertainty as a band widening in the model's space: a log-space standard deviation, turned
 * into the transformed target's units around the estimate for targets that are not log prices.
 */
export function withNowcastSpread(w: BandWidening, a: MarketAdjustment, estimate: number, compiled: CompiledTransform): BandWidening {
  if (!(a.sd > 0)) return w;
  const spread = Math.abs(compiled.target(estimate * Math.exp(a.sd)) - compiled.target(estimate));
  return { ...w, spread: Math.sqrt(w.spread ** 2 + spread ** 2) };
}

/** The contribution the market makes, in the model's space, to add to the TreeSHAP ones (so the reasons add up). */
export function marketContribution(constantRaw: number, raw: number): number {
  return raw - constantRaw;
}

/** What the valuation says about its date and the market, or null when nothing needs saying. */
export function marketWarning(
  index: MarketIndex,
  a: MarketAdjustment,
  valuationDate: string,
  intervals: { level: number; quantile: number }[],
  before: BandWidening,
  after: BandWidening,
): string | null {
  const pct = (x: number) => `${x >= 0 ? '+' : '−'}${(Math.abs(x) * 100).toFixed(1)} %`;
  const where = a.region === null ? 'the local price index' : `the price index of ${index.region?.column ?? 'region'} ${a.region}`;
  if (a.kind === 'before')
    return (
      `the valuation date ${valuationDate} is before the sales this model learned from; it values the property at market levels of ` +
      `${a.period}, the first period of ${where}`
    );
  if (a.kind !== 'nowcast') return null;
  const months = a.periodsAhead * MONTHS_PER_PERIOD[index.period];
  const main = intervals.find((i) => i.level === 0.8) ?? intervals[0];
  let widening = '';
  if (main) {
    const q0 = widenedQuantile(main.quantile, main.level, before);
    const q1 = widenedQuantile(main.quantile, main.level, after);
    widening = `, which widens the ${Math.round(main.level * 100)} % range from ±${((Math.exp(q0) - 1) * 100).toFixed(1)} % to ±${((Math.exp(q1) - 1) * 100).toFixed(1)} %`;
  }
  return (
    `the valuation date ${valuationDate} is ${months} month(s) after the last sale this model learned from (${index.lastSaleDate}): ` +
    `market conditions are nowcast from the trend of ${where} — ${pct(Math.exp(a.logFactor) - 1)} since ${index.reference}, ` +
    `uncertain by ±${((Math.exp(a.sd) - 1) * 100).toFixed(1)} % (one standard deviation) because no sales after that date were seen${widening}; ` +
    `retrain with newer sales for a firmer value`
  );
}

/** The reasons' inputs with the market's contribution appended as one more "feature" (time row of the grid). */
export function withMarketFeature(
  names: string[],
  vector: Float32Array,
  phi: Float64Array,
  marketRaw: number,
): { names: string[]; vector: Float32Array; phi: Float64Array } {
  const v = new Float32Array(vector.length + 1);
  v.set(vector);
  v[vector.length] = NaN;
  const p = new Float64Array(phi.length + 1);
  p.set(phi);
  p[phi.length] = marketRaw;
  return { names: [...names, MARKET_FEATURE], vector: v, phi: p };
}
