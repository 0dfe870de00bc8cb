import { z } from 'zod';

/**
 * The `monitoring:` section of a dataset YAML: thresholds that turn monitoring statistics into alerts. The whole
 * section is optional (and absent from configs that do not set it), so configs written before it keep their hash;
 * every threshold has a default, documented in docs/monitoring.md with the reason for it.
 */
const band = (low: number, high: number) => z.strictObject({ low: z.number(), high: z.number() }).default({ low, high });
const warnAlert = (warn: number, alert: number) =>
  z
    .strictObject({ warn: z.number().min(0), alert: z.number().min(0) })
    .refine((t) => t.warn <= t.alert, 'the warn threshold must not exceed the alert threshold')
    .default({ warn, alert });

export const monitoringConfigSchema = z.strictObject({
  drift: z
    .strictObject({
      /** Population stability index per feature: 0.1 is "some shift", 0.25 "a major shift" (credit-scoring practice). */
      psi: warnAlert(0.1, 0.25),
      /** Jensen–Shannon distance (base 2) for categorical features; Evidently's default threshold is 0.1. */
      jensenShannon: warnAlert(0.1, 0.2),
      /**
       * A drift must also be significant: KS (numeric) or chi² (categorical) p-value below this. Distances alone
       * are biased upward in small samples (an unchanged 70-category feature shows PSI ≈ 0.1 at 700 rows); tests
       * alone flag negligible shifts in huge ones. Requiring both keeps alerts for shifts that are real and large.
       */
      pValue: z.number().gt(0).lt(1).default(0.01),
      /** The dataset drifts when more than this share of the checked features is at alert level (Evidently: 0.5). */
      datasetShare: z.number().min(0).max(1).default(0.5),
      /**
       * Features not checked for drift. Default: those computed from the sale date (the date itself and month
       * indexes), which move forward with time by construction and would always "drift".
       */
      exclude: z.array(z.string()).optional(),
      /** Fewer valuations than this in a window: statistics are shown but raise no alert (too noisy). */
      minRows: z.number().int().min(1).default(100),
    })
    .default({ psi: { warn: 0.1, alert: 0.25 }, jensenShannon: { warn: 0.1, alert: 0.2 }, pValue: 0.01, datasetShare: 0.5, minRows: 100 }),
  quality: z
    .strictObject({
      /** Share of a feature's inputs that are missing, unseen categories or out of range, above which to warn / alert. */
      share: warnAlert(0.05, 0.2),
    })
    .default({ share: { warn: 0.05, alert: 0.2 } }),
  accuracy: z
    .strictObject({
      /**
       * IAAO standard on ratio studies: median ratio 0.90–1.10, COD ≤ 15 (residential), PRD 0.98–1.03, PRB ±0.05.
       * Median ratio and COD raise alerts; PRB (when its 95 % interval excludes 0) a vertical-equity warning; PRD is
       * shown against its band.
       */
      medianRatio: band(0.9, 1.1),
      codMax: z.number().positive().default(15),
      prd: band(0.98, 1.03),
      prbMax: z.number().positive().default(0.05),
      /** Fewer sold properties than this (overall, or in a group): no accuracy alert. */
      minSales: z.number().int().min(1).default(30),
      /** The categorical column whose groups are checked for horizontal equity (e.g. zipcode, neighbourhood). */
      groupBy: z.string().optional(),
      /** Number of sale-price tiers for vertical equity (quantiles of the sale price). */
      priceTiers: z.number().int().min(2).max(10).default(4),
    })
    .default({ medianRatio: { low: 0.9, high: 1.1 }, codMax: 15, prd: { low: 0.98, high: 1.03 }, prbMax: 0.05, minSales: 30, priceTiers: 4 }),
});
export type MonitoringConfig = z.output<typeof monitoringConfigSchema>;

/** The thresholds that apply when a config has no `monitoring:` section. */
export const defaultMonitoringConfig = (): MonitoringConfig => monitoringConfigSchema.parse({});
