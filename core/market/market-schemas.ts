import { z } from 'zod';

/** One period of an index: its log level relative to the reference period (0 there), its standard error, its sales. */
export const indexPointSchema = z.object({
  /** "2014-05" (month) or "2014-Q2" (quarter). */
  period: z.string(),
  /** log(index): a sale in this period sold for exp(logIndex) times what it would have fetched in the reference period. */
  logIndex: z.number(),
  /** Standard error of logIndex (0 at the reference period, by definition). */
  se: z.number(),
  /** Sales in this period (in this region). */
  sales: z.number().int(),
  /**
   * Mean sale date of the period's sales (whole file), ISO: where the period's level is measured. Dates between
   * two centres are interpolated, and the nowcast's horizon counts from the last centre, so a sale late in a
   * month of a rising market is not valued at the month's average level.
   */
  centre: z.string().optional(),
});
export type IndexPoint = z.output<typeof indexPointSchema>;

/**
 * The state of the local linear trend at the last period (core/market/nowcast.ts): level and slope of the log
 * index, their covariance, and the per-period noise variances of each, so forecasts can be made at valuation time.
 */
export const trendStateSchema = z.object({
  level: z.number(),
  slope: z.number(),
  /** Covariance of (level, slope): [var level, cov, var slope]. */
  cov: z.tuple([z.number(), z.number(), z.number()]),
  levelNoise: z.number(),
  slopeNoise: z.number(),
  /** Damping of the slope per period (1: a straight trend; below 1 the trend fades, as market runs do). */
  damping: z.number().min(0).max(1),
});
export type TrendState = z.output<typeof trendStateSchema>;

/** One index series: the whole file (region null) or one region, with its nowcast state. */
export const indexSeriesSchema = z.object({
  region: z.string().nullable(),
  sales: z.number().int(),
  /**
   * For a region: the average share of its own deviation from the whole-file index that was kept (1 = its own
   * sales alone, 0 = the whole-file index). Null for the whole file.
   */
  shrinkage: z.number().nullable(),
  points: z.array(indexPointSchema),
  trend: trendStateSchema,
});
export type IndexSeries = z.output<typeof indexSeriesSchema>;

/** The market-conditions index of a model or dataset, as stored in the model manifest. */
export const marketIndexSchema = z.object({
  format: z.literal('appraise-market-index/1'),
  method: z.literal('hedonic-time-dummy'),
  period: z.enum(['month', 'quarter']),
  /** The sale-date column. */
  saleDate: z.string(),
  /** The column regions are read from (values, or the groups of values the config names); null: the whole file only. */
  region: z.object({ column: z.string(), groups: z.record(z.string(), z.string()).nullable() }).nullable(),
  /** The period prices are deflated to (the last one with sales). */
  reference: z.string(),
  lastSaleDate: z.string(),
  /** Periods past the reference a valuation may be nowcast to; beyond that it is refused. */
  maxNowcastPeriods: z.number().int().min(0),
  /** The property characteristics held constant by the hedonic regression. */
  controls: z.array(z.string()),
  /** Residual standard deviation of log price in the hedonic regression. */
  residualSd: z.number(),
  nSales: z.number().int(),
  whole: indexSeriesSchema,
  regions: z.array(indexSeriesSchema),
  /** Case–Shiller style repeat-sales index from resold properties, as a cross-check; null with too few resales. */
  repeatSales: z.object({ pairs: z.number().int(), points: z.array(indexPointSchema) }).nullable(),
});
export type MarketIndex = z.output<typeof marketIndexSchema>;

/** A point of a nowcast beyond the reference period: the forecast log index and its standard deviation. */
export const forecastPointSchema = z.object({ period: z.string(), logIndex: z.number(), sd: z.number() });

/** What `market.index` returns to the UI: the index and, per series, its nowcast to the horizon. */
export const marketIndexViewSchema = z.object({
  source: z.object({ kind: z.enum(['model', 'dataset']), id: z.string(), name: z.string() }),
  index: marketIndexSchema,
  forecasts: z.array(z.object({ region: z.string().nullable(), points: z.array(forecastPointSchema) })),
});
export type MarketIndexView = z.output<typeof marketIndexViewSchema>;
