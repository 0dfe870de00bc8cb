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
  equity: z
    .strictObject({
      /**
       * A group (of accuracy.groupBy) whose median ratio differs from the overall median ratio by more than this
       * (as a fraction: 0.1 = 10 %) is treated differently from the rest, even when the overall level is off too.
       * Needs accuracy.minSales sales in the group.
       */
      maxDeviation: z.number().positive().default(0.1),
    })
    .default({ maxDeviation: 0.1 }),
  labelFree: z
    .strictObject({
      /**
       * Relative rise of the label-free RMSE estimate over the model's own held-out RMSE (0.15 = 15 % worse) at
       * which to warn / alert; the rise must also hold at the low end of the estimate's 95 % band.
       */
      increase: warnAlert(0.15, 0.3),
    })
    .default({ increase: { warn: 0.15, alert: 0.3 } }),
  /**
   * Automated retraining (`appraise monitor retrain`): when alerts of the listed rules fire and enough new sales
   * are linked, retrain on the training sales plus the new ones; the challenger is scored in shadow, and promoted
   * when the paired test on later sales finds it better (and no equity group worse).
   */
  retraining: z
    .strictObject({
      /** Alert rules (or prefixes such as "accuracy." or "drift.") that start a retraining. */
      triggers: z.array(z.string().min(1)).default(['accuracy.', 'equity.', 'drift.dataset', 'labelFree.']),
      /** Fewest linked sales, not yet used in training, needed to retrain. */
      minNewSales: z.number().int().min(1).default(200),
      /** Fewest shadow-scored sold valuations before the paired test may decide. */
      minPairedSales: z.number().int().min(10).default(100),
      /** One-sided p-value of the Wilcoxon signed-rank test below which the challenger counts as better. */
      pValue: z.number().gt(0).lt(1).default(0.01),
      /** 'auto': promote when the gates pass; 'ask': report that it may be promoted and leave that to a person. */
      promote: z.enum(['auto', 'ask']).default('ask'),
      /** Learner parameters and folds of the retraining run (default: the learner's own defaults, 3 folds). */
      params: z.record(z.string(), z.union([z.number(), z.string()])).optional(),
      folds: z.number().int().min(2).max(20).default(3),
      // The three below are optional and not defaulted here, so configs with a retraining section written before
      // them keep their hash; `retrainingPolicyOf` (core/monitoring/retraining-policy.ts) fills in the defaults.
      /**
       * Days after a retraining step that produced a challenger during which no new challenger is trained (default
       * 7): a challenger needs time to be judged in shadow, and a rejected one must not be retrained at once on the
       * same sales. A person may override it (Retrain now → retrain anyway, `appraise monitor retrain --force`).
       */
      cooldownDays: z.number().min(0).max(3650).optional(),
      /** Retrain when this many linked sales not yet used in training exist, even when no alert fired (default: off). */
      everyNewSales: z.number().int().min(1).optional(),
      /**
       * Learn from the training sales of the last N months only (by sale date, counted back from the newest linked
       * sale) plus the new sales, instead of every training sale (default: all of them).
       */
      windowMonths: z.number().int().min(1).max(600).optional(),
    })
    .default({
      triggers: ['accuracy.', 'equity.', 'drift.dataset', 'labelFree.'],
      minNewSales: 200,
      minPairedSales: 100,
      pValue: 0.01,
      promote: 'ask',
      folds: 3,
    }),
  /**
   * Random sample review (the AVM rule's "random sample testing and reviews"): this share of valuations is drawn
   * when it is made into a review queue. Optional and not defaulted here, so configs with a monitoring section
   * written before it keep their hash; `reviewConfigOf` fills in the defaults (share 0.05, seed "appraise-review").
   */
  review: z
    .strictObject({
      /** Share of single valuations drawn for review, 0 (none) to 1 (all). */
      share: z.number().min(0).max(1).optional(),
      /**
       * The key of the seeded draw: a valuation is drawn when HMAC-SHA256(seed, its prediction id) read as a number
       * in [0, 1) falls below the share, so anyone with the seed can re-check which valuations had to be reviewed.
       */
      seed: z.string().min(1).max(200).optional(),
    })
    .optional(),
});
export type MonitoringConfig = z.output<typeof monitoringConfigSchema>;

/** The thresholds that apply when a config has no `monitoring:` section. */
export const defaultMonitoringConfig = (): MonitoringConfig => monitoringConfigSchema.parse({});
