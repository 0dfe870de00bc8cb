import { z } from 'zod';

/**
 * The optional `market:` section of a dataset config: the local price index (core/market) that training deflates
 * prices by and valuations re-inflate with. Every key has a default chosen from the data, so most configs need
 * none; optional (not defaulted) so configs without it keep their hash.
 */
export const marketConfigSchema = z.strictObject({
  /**
   * false: no index, prices are learned as they are. Default: on when the schema has a sale date and the sales
   * cover at least 3 periods with 10 sales per period on average.
   */
  enabled: z.boolean().optional(),
  /** Index period (default month); quarter for files too thin for monthly figures. */
  period: z.enum(['month', 'quarter']).optional(),
  /** Column that names each sale's region (e.g. a ZIP code); absent: one index for the whole file. */
  region: z.string().min(1).optional(),
  /** Regions as groups of the region column's values, e.g. `{ north: [98125, 98133] }`; values in no group use the whole file. */
  regionGroups: z.record(z.string().min(1).max(64), z.array(z.union([z.string(), z.number()])).min(1)).optional(),
  /** Regions with fewer sales use the whole-file index. Default: max(30, 3 × the number of periods). */
  minSalesPerRegion: z.number().int().min(1).optional(),
  /**
   * Furthest a valuation may be dated after the last sale, in months; beyond it valuations are refused until the
   * model is retrained. Default: the months the data covers, from 3 to 12.
   */
  maxNowcastMonths: z.number().int().min(0).max(60).optional(),
});
export type MarketConfig = z.output<typeof marketConfigSchema>;
