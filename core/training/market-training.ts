import { invalidInput } from '../common/errors.js';
import type { DatasetStore, DatasetVersion, TrainingMatrix } from '../datasets/dataset-store.js';
import type { CompiledTransform, FeatureTransform } from '../features/feature-transform.js';
import { hedonicSales, type DesignFeature } from '../market/hedonic-design.js';
import { adjustmentAtDay } from '../market/market-adjustment.js';
import type { MarketIndex } from '../market/market-schemas.js';
import { periodOfDay, MONTHS_PER_PERIOD, type IndexPeriod } from '../market/periods.js';
import { estimateMarketIndex, MIN_INDEX_PERIODS, MIN_SALES_PER_PERIOD } from '../market/price-index.js';

/**
 * Training on constant-date prices: what the training service needs from core/market. The index is estimated
 * on a fold's training rows only (its test rows' prices never reach it), every training price is deflated to the
 * index's reference period (its last), the trees learn those, and each test row's estimate is re-inflated to its
 * own sale date — by the index inside the training period, by the nowcast after it (time-ordered folds).
 */
export interface MarketSetup {
  saleDate: string;
  period: IndexPeriod;
  minSalesPerRegion?: number;
  maxNowcastMonths?: number;
  region: { column: string; groups: Record<string, string> | null; codes: Int32Array; names: string[] } | null;
  ids: (string | null)[] | null;
  features: DesignFeature[];
  /** log(price) of every row. */
  logPrice: Float64Array;
  day: Float64Array;
}

/**
 * Whether this training run uses an index, and what it is made of; null when it does not. Off when the schema
 * has no sale date, `market.enabled` is false, a warm start's parent learned without one, or the sales are too
 * few or cover too few periods (then a config that asked for it by `enabled: true` is told why).
 */
export function marketSetup(
  datasets: DatasetStore,
  ds: DatasetVersion,
  transform: FeatureTransform,
  compiled: CompiledTransform,
  m: TrainingMatrix,
  parent: { market?: MarketIndex } | null,
): MarketSetup | null {
  const cfg = ds.config.market ?? {};
  const saleDate = transform.saleDate;
  if (!saleDate || cfg.enabled === false) return null;
  if (parent && !parent.market) return null;
  const period: IndexPeriod = parent?.market?.period ?? cfg.period ?? 'month';
  const dated = m.saleDay.filter((d) => !Number.isNaN(d));
  const periods = new Set(Array.from(dated, (d) => periodOfDay(d, period)));
  const span = periods.size === 0 ? 0 : Math.max(...periods) - Math.min(...periods) + 1;
  if (span < MIN_INDEX_PERIODS || dated.length < MIN_SALES_PER_PERIOD * span) {
    if (cfg.enabled === true)
      throw invalidInput(
        `market.enabled is true, but the sales cover ${span} ${period}(s) with ${dated.length} dated sale(s); a price index needs at least ` +
          `${MIN_INDEX_PERIODS} ${period}s and ${MIN_SALES_PER_PERIOD} sales per ${period} on average. Use period: quarter, or remove market.enabled`,
      );
    return null;
  }
  const regionColumn = parent?.market?.region?.column ?? cfg.region;
  let region: MarketSetup['region'] = null;
  if (regionColumn) {
    if (!ds.config.dataset.columns[regionColumn]) throw invalidInput(`market.region names the column "${regionColumn}", which the dataset does not have`);
    const groups = cfg.regionGroups
      ? Object.fromEntries(Object.entries(cfg.regionGroups).flatMap(([g, vs]) => vs.map((v) => [String(v), g])))
      : (parent?.market?.region?.groups ?? null);
    const byRow = columnByRow(datasets, ds, regionColumn);
    const names: string[] = [];
    const codeOf = new Map<string, number>();
    const codes = Int32Array.from(m.rowIndex, (ri) => {
      const v = byRow.get(ri);
      if (v === null || v === undefined) return -1;
      const name = groups ? groups[v] : v;
      if (name === undefined) return -1;
      let c = codeOf.get(name);
      if (c === undefined) codeOf.set(name, (c = names.push(name) - 1));
      return c;
    });
    region = { column: regionColumn, groups, codes, names };
  }
  const idColumn = Object.keys(ds.config.dataset.columns).find((c) => ds.config.dataset.columns[c].type === 'identifier');
  let ids: (string | null)[] | null = null;
  if (idColumn) {
    const byRow = columnByRow(datasets, ds, idColumn);
    ids = Array.from(m.rowIndex, (ri) => byRow.get(ri) ?? null);
  }
  const features: DesignFeature[] = transform.features.map((f, i) => ({
    name: f.name,
    kind: f.kind,
    timeBased: f.spec.op === 'days' || f.spec.op === 'month_index',
    nCategories: compiled.categoryCounts[i],
  }));
  const maxNowcastMonths = cfg.maxNowcastMonths;
  return {
    saleDate,
    period,
    minSalesPerRegion: cfg.minSalesPerRegion,
    maxNowcastMonths,
    region,
    ids,
    features,
    logPrice: Float64Array.from(m.y, (v) => Math.log(compiled.inverseTarget(v))),
    day: m.saleDay,
  };
}

/** The values of one column by source row (text; null when missing). */
function columnByRow(datasets: DatasetStore, ds: DatasetVersion, column: string): Map<number, string | null> {
  const out = new Map<number, string | null>();
  for (const { rowIndex, values } of datasets.iterateRows(ds, [{ name: column }])) out.set(rowIndex, values[0] === null ? null : String(values[0]));
  return out;
}

/** The index estimated on `rows` (sales with a date) of the matrix. */
export function fitMarketIndex(setup: MarketSetup, X: Float32Array, nFeatures: number, rows: Int32Array): MarketIndex {
  // Sales without a date, or at a price of 0 (a config may allow it; it has no log), say nothing about the market.
  const dated = rows.filter((r) => !Number.isNaN(setup.day[r]) && Number.isFinite(setup.logPrice[r]));
  const sales = hedonicSales({
    X,
    nFeatures,
    rows: dated,
    features: setup.features,
    logPrice: setup.logPrice,
    day: setup.day,
    region: setup.region,
    ids: setup.ids,
  });
  return estimateMarketIndex(sales, {
    saleDate: setup.saleDate,
    period: setup.period,
    minSalesPerRegion: setup.minSalesPerRegion,
    maxNowcastPeriods: setup.maxNowcastMonths === undefined ? undefined : Math.floor(setup.maxNowcastMonths / MONTHS_PER_PERIOD[setup.period]),
  });
}

/**
 * log(index at each row's sale date / index at the reference period), for the given rows: the row's region
 * series, nowcast past the index's last period, 0 for rows without a date (they are taken as of the reference).
 */
export function marketLogFactors(setup: MarketSetup, index: MarketIndex, rows: Int32Array): Float64Array {
  return Float64Array.from(rows, (r) => {
    const day = setup.day[r];
    if (Number.isNaN(day)) return 0;
    const code = setup.region ? setup.region.codes[r] : -1;
    // Region codes already name the group (if the config groups values), so the series is found by name.
    const s = code >= 0 ? (index.regions.find((x) => x.region === setup.region!.names[code]) ?? index.whole) : index.whole;
    return adjustmentAtDay(index, s, day).logFactor;
  });
}

/**
 * The training data the trees learn from when prices are deflated by the index: the sale date's position in
 * time (the day number, the month index) missing on every row, so no tree splits on it. The index carries the
 * market; what is left of time in deflated prices is the sampling noise of each period's mix, and a tree that
 * splits on it puts every later sale into its last bin — a time-ordered block, or a valuation held at the last
 * sale date, then gets the noise of the window's last weeks. Measured on generated sales with a known index
 * (test/market-oot.test.ts): a flat region was under-valued by 4 % in the last block with them, under 1 % without.
 * Date features that describe the property (age at sale) stay.
 */
export function learnerData<T extends { X: Float32Array; nRows: number; nFeatures: number }>(data: T, timeFeatures: readonly number[]): T {
  if (timeFeatures.length === 0) return data;
  const X = Float32Array.from(data.X);
  for (let i = 0; i < data.nRows; i++) for (const f of timeFeatures) X[i * data.nFeatures + f] = NaN;
  return { ...data, X };
}

/** A price in the model's (transformed) space moved by a log factor: ×exp(factor) in currency. */
export function shiftTarget(yT: number, factor: number, compiled: CompiledTransform): number {
  if (factor === 0) return yT;
  return compiled.target(compiled.inverseTarget(yT) * Math.exp(factor));
}

/**
 * The target of a fold (or the final model) fitted on `trainRows`: the index from those rows, the whole target
 * with the training rows deflated to the reference period, and a function that re-inflates predictions of
 * `testRows` to their own dates.
 */
export function deflatedFold(
  setup: MarketSetup,
  data: { X: Float32Array; nFeatures: number; y: Float64Array },
  compiled: CompiledTransform,
  trainRows: Int32Array,
  testRows: Int32Array,
): { index: MarketIndex; y: Float64Array; reinflate: (pred: Float64Array) => Float64Array } {
  const index = fitMarketIndex(setup, data.X, data.nFeatures, trainRows);
  const y = Float64Array.from(data.y);
  const down = marketLogFactors(setup, index, trainRows);
  trainRows.forEach((r, i) => (y[r] = shiftTarget(data.y[r], -down[i], compiled)));
  const up = marketLogFactors(setup, index, testRows);
  return { index, y, reinflate: (pred) => Float64Array.from(pred, (p, i) => shiftTarget(p, up[i], compiled)) };
}
