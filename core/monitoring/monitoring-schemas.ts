import { z } from 'zod';
import { monitoringConfigSchema } from '../config/monitoring-config.schema.js';
import { trainProgressSchema } from '../training/training-schemas.js';
import { marketIndexSchema } from '../market/market-schemas.js';

/** Where a statistic stands against its thresholds; `insufficient`: too few rows to judge, so no alert. */
export const checkStatusSchema = z.enum(['ok', 'warning', 'alert', 'insufficient']);
export type CheckStatus = z.output<typeof checkStatusSchema>;

export const featureQualitySchema = z.object({
  feature: z.string(),
  /** Share of logged inputs where the feature was missing (unseen categories not included). */
  missingShare: z.number(),
  /** The same share in the training data (the manifest's reference). */
  referenceMissingShare: z.number(),
  /** Share of inputs with a category the model never saw in training (categorical features only, else 0). */
  unseenShare: z.number(),
  /** missing beyond the training share + unseen: the share of inputs the model could not read as it was trained to. */
  problemShare: z.number(),
  status: checkStatusSchema,
});

const testResult = z.object({ statistic: z.number(), pValue: z.number() });

export const featureDriftSchema = z.object({
  feature: z.string(),
  kind: z.enum(['numeric', 'categorical']),
  /** False for features left out of drift checks (monitoring.drift.exclude; by default those computed from the sale date). */
  checked: z.boolean(),
  /** Non-missing values compared with the reference. */
  n: z.number(),
  psi: z.number(),
  /** Two-sample KS at the reference bin edges (numeric features). */
  ks: testResult.nullable(),
  /** Jensen–Shannon distance, base 2 (categorical features). */
  jensenShannon: z.number().nullable(),
  chiSquare: testResult.extend({ dof: z.number() }).nullable(),
  /** Bin shares of the reference and of the logged inputs, for the bar chart (numeric: bins between `edges`). */
  edges: z.array(z.number()),
  referenceShares: z.array(z.number()),
  currentShares: z.array(z.number()),
  status: checkStatusSchema,
});

export const ratioStudySchema = z.object({
  n: z.number(),
  medianRatio: z.number(),
  cod: z.number(),
  prd: z.number(),
  prb: z.number().nullable(),
  prbLow: z.number().nullable(),
  prbHigh: z.number().nullable(),
  mdape: z.number(),
  within10: z.number(),
  intervalCoverage: z.number().nullable(),
  status: checkStatusSchema,
});

export const equityGroupSchema = ratioStudySchema.extend({ group: z.string() });

export const alertSchema = z.object({
  /** Which rule fired: drift.feature, drift.dataset, drift.prediction, quality.feature, accuracy.*, equity.*, labelFree.rmse */
  rule: z.string(),
  severity: z.enum(['warning', 'alert']),
  /** What it is about: a feature name, a group, or the model. */
  subject: z.string(),
  message: z.string(),
  value: z.number(),
  threshold: z.number(),
});
export type MonitoringAlert = z.output<typeof alertSchema>;

/** An alert as stored when a check ran (`appraise monitor alerts`): when, on which model and window. */
export const storedAlertSchema = alertSchema.extend({
  id: z.number(),
  modelId: z.string(),
  raisedAt: z.string(),
  windowSince: z.string().nullable(),
  windowUntil: z.string().nullable(),
  /** Who acknowledged it (seen and being dealt with), when and with what note; null while it is open. */
  acknowledged: z.object({ at: z.string(), by: z.string(), note: z.string().nullable() }).nullable(),
});
export type StoredAlert = z.output<typeof storedAlertSchema>;

/** The periodic monitoring checks (`appraise monitor schedule`): run while the app is open, caught up once after. */
export const monitoringScheduleSchema = z.object({
  /** Hours between checks; null: periodic checks are off. Default 24. */
  intervalHours: z.number().positive().nullable(),
  /** When the last scheduled check ran (ISO); null: never. */
  lastRunAt: z.string().nullable(),
  /** When the next one is due (ISO); null when off. Due now if the app was closed past it. */
  nextDueAt: z.string().nullable(),
});
export type MonitoringSchedule = z.output<typeof monitoringScheduleSchema>;

/** Accuracy before sale prices arrive (direct loss estimation; docs/monitoring.md). */
export const labelFreeSchema = z.object({
  /** Why there is no estimate (e.g. an imported model has no loss estimator); null when there is one. */
  unavailable: z.string().nullable(),
  n: z.number(),
  /** The model's held-out (out-of-fold) RMSE of log price and MdAPE: the level the estimate is compared with. */
  reference: z.object({ rmseLog: z.number(), mdape: z.number() }).nullable(),
  /** The estimate with its 95 % band (sampling error of a window of n valuations). */
  estimated: z
    .object({ rmseLog: z.number(), rmseLow: z.number(), rmseHigh: z.number(), mdape: z.number(), mdapeLow: z.number(), mdapeHigh: z.number() })
    .nullable(),
  /** Cross-check: held-out residuals re-weighted to the current mix of estimates. */
  importanceWeighted: z.object({ rmseLog: z.number() }).nullable(),
  /** The realised figures once sale prices are linked, to compare the estimate with. */
  realised: z.object({ n: z.number(), rmseLog: z.number(), mdape: z.number() }).nullable(),
  status: checkStatusSchema,
});
export type LabelFreeEstimate = z.output<typeof labelFreeSchema>;

/** The paired test of a challenger scored in shadow against the champion, on the same sold valuations. */
export const pairedTestSchema = z.object({
  /** Sold valuations both models scored; `n` of the test counts those where their errors differ. */
  pairs: z.number(),
  n: z.number(),
  /** W⁺ of the Wilcoxon signed-rank test on champion |log error| − challenger |log error|. */
  statistic: z.number(),
  z: z.number(),
  /** One-sided: the challenger's errors are smaller. */
  pValue: z.number(),
  /** Matched-pairs rank-biserial correlation: +1 the challenger closer on every sale, −1 the champion. */
  effectSize: z.number(),
  championMedianAbsLogError: z.number(),
  challengerMedianAbsLogError: z.number(),
});
export type PairedTest = z.output<typeof pairedTestSchema>;

export const shadowComparisonSchema = z.object({
  challenger: z.object({ id: z.string(), name: z.string(), status: z.string() }),
  /** Valuations the challenger scored in shadow in the window. */
  scored: z.number(),
  test: pairedTestSchema.nullable(),
  /** Groups (accuracy.groupBy) with enough paired sales where the challenger's median ratio is further from 1. */
  worseGroups: z.array(z.object({ group: z.string(), n: z.number(), championMedianRatio: z.number(), challengerMedianRatio: z.number() })),
  verdict: z.enum(['better', 'not-better', 'worse', 'insufficient']),
  message: z.string(),
});
export type ShadowComparison = z.output<typeof shadowComparisonSchema>;

/** What a retraining step that trained a challenger learned from, and what called for it (kept with the run). */
export const retrainingDataSchema = z.object({
  /** 'alerts': trigger rules fired (monitoring.retraining.triggers); 'newSales': everyNewSales new sales were linked. */
  cause: z.enum(['alerts', 'newSales']),
  /** Linked sales of the champion's valuations added to the training sales. */
  newSales: z.number(),
  /** monitoring.retraining.windowMonths, null when every training sale was used. */
  windowMonths: z.number().nullable(),
  /** With a window: training sales on or after this date (YYYY-MM-DD) were used. */
  windowFrom: z.string().nullable(),
  /** A person overrode the cooldown (Retrain now → retrain anyway, `--force`). */
  cooldownOverridden: z.boolean(),
});
export type RetrainingData = z.output<typeof retrainingDataSchema>;

/** One run of the retraining policy (`appraise monitor retrain`): what it found and what it did. */
export const retrainingRunSchema = z.object({
  id: z.number(),
  at: z.string(),
  championId: z.string(),
  /**
   * trained: a challenger was trained and put in shadow; promoted / ready (policy ask) / rejected / waiting / none;
   * cooldown: skipped, the last challenger was trained less than monitoring.retraining.cooldownDays ago.
   */
  action: z.enum(['none', 'trained', 'waiting', 'promoted', 'ready', 'rejected', 'cooldown']),
  challengerId: z.string().nullable(),
  /** The alerts that triggered it, the new sales used, the test: in words. */
  reason: z.string(),
  test: pairedTestSchema.nullable(),
  /** The background job (core/jobs) the step ran in; null when it ran inline (an older run, or a test). */
  jobId: z.string().nullable(),
  /** What started it: a person ('manual': the app's Retrain now, `appraise monitor retrain`) or the periodic check; null before migration 13. */
  trigger: z.enum(['manual', 'schedule']).nullable(),
  /** A 'cooldown' run: when the cooldown ends and a challenger may be trained again; null otherwise (and before migration 14). */
  cooldownUntil: z.string().nullable(),
  /** A 'trained' run: what the challenger learned from (data window, new sales) and why; null otherwise (and before migration 14). */
  data: retrainingDataSchema.nullable(),
});
export type RetrainingRun = z.output<typeof retrainingRunSchema>;

/** Progress of a retraining job: which step of the policy it is in, and the training run's own progress while it trains. */
export const retrainProgressSchema = z.object({
  phase: z.enum(['judging', 'checking', 'training', 'recording']),
  training: trainProgressSchema.optional(),
});
export type RetrainProgress = z.output<typeof retrainProgressSchema>;

/** The verdicts a reviewer can give a valuation drawn for review. */
export const reviewVerdictSchema = z.enum(['agree', 'adjust', 'disagree']);
export type ReviewVerdict = z.output<typeof reviewVerdictSchema>;

/** A valuation drawn at random for review (monitoring.review), with the reviewer's verdict once given. */
export const reviewSampleSchema = z.object({
  predictionId: z.string(),
  modelId: z.string(),
  drawnAt: z.string(),
  /** The seeded draw in [0, 1) that fell below `share` (reproducible from the seed and the prediction id). */
  draw: z.number(),
  share: z.number(),
  propertyId: z.string().nullable(),
  estimate: z.number(),
  review: z
    .object({
      verdict: reviewVerdictSchema,
      /** The reviewer's value, for an 'adjust' verdict. */
      adjustedValue: z.number().nullable(),
      notes: z.string().nullable(),
      by: z.string(),
      at: z.string(),
    })
    .nullable(),
});
export type ReviewSample = z.output<typeof reviewSampleSchema>;

/** The random sample review over a window: how many were drawn and reviewed, and what the reviewers found. */
export const reviewSummarySchema = z.object({
  /** monitoring.review.share of the model reported on. */
  share: z.number(),
  /** Single valuations in the window, and how many of them were drawn for review. */
  valuations: z.number(),
  drawn: z.number(),
  reviewed: z.number(),
  /** reviewed / drawn; null when none was drawn. */
  reviewedShare: z.number().nullable(),
  agree: z.number(),
  adjust: z.number(),
  disagree: z.number(),
  /** agree / reviewed; null before any review. */
  agreementRate: z.number().nullable(),
  /** Mean of (reviewer's value / estimate − 1) over the 'adjust' verdicts; null without one. */
  meanAdjustment: z.number().nullable(),
});
export type ReviewSummary = z.output<typeof reviewSummarySchema>;

/**
 * Version 2 adds `market` (the model's local price index). Readers accept version 1 too: its reports parse with
 * `market` null, so older devices' reports (and the registry's stored ones) stay readable.
 */
export const MONITORING_REPORT_FORMAT = 'appraise-monitoring/2';
export const MONITORING_REPORT_FORMATS = ['appraise-monitoring/1', MONITORING_REPORT_FORMAT] as const;

/**
 * The monitoring report: the document `appraise monitor report --json` prints, the `monitoring.report` API method
 * returns and the sync outbox will carry. Versioned by `format`; a change that readers would misread bumps it.
 */
export const monitoringReportSchema = z.object({
  format: z.enum(MONITORING_REPORT_FORMATS),
  generatedAt: z.string(),
  model: z.object({ id: z.string(), name: z.string(), status: z.string() }),
  window: z.object({ since: z.string().nullable(), until: z.string().nullable() }),
  /** Logged predictions in the window, and how many of them have a sale price linked. */
  predictions: z.number(),
  sold: z.number(),
  /** The thresholds applied (the model's `monitoring:` config section, defaults filled in). */
  thresholds: monitoringConfigSchema,
  quality: z.array(featureQualitySchema),
  drift: z.object({
    features: z.array(featureDriftSchema),
    /** Share of the checked features at alert level. */
    driftedShare: z.number(),
    datasetDrift: z.boolean(),
    /** PSI and KS of the logged estimates (log price) against the model's out-of-fold estimates; null without them. */
    prediction: z.object({ psi: z.number(), ks: testResult, status: checkStatusSchema }).nullable(),
  }),
  /**
   * Drift and accuracy over time: one entry per day of the window (per ISO week, Monday first, beyond 60 days).
   * `maxPsi` is the largest PSI among checked features (with at least `drift.minRows` values in the bucket) whose
   * shift is significant (p < drift.pValue), 0 when none is; null when no feature had enough values.
   */
  timeline: z.array(
    z.object({
      start: z.string(),
      predictions: z.number(),
      sold: z.number(),
      maxPsi: z.number().nullable(),
      maxPsiFeature: z.string().nullable(),
      /** Checked features at alert level (PSI and significance) in this bucket. */
      driftedFeatures: z.number(),
      medianRatio: z.number().nullable(),
      cod: z.number().nullable(),
      /** Label-free estimate of the bucket's RMSE of log price (null without an estimator). */
      estimatedRmseLog: z.number().nullable().default(null),
    }),
  ),
  /** Ratio study over the sold predictions; null before any sale is linked. */
  accuracy: ratioStudySchema.nullable(),
  equity: z.object({
    /** Vertical equity: by value tier (halfway between sale price and level-corrected estimate), lowest first; `group` names the range. */
    priceTiers: z.array(equityGroupSchema),
    /** Horizontal equity: by the groups of `column` (monitoring.accuracy.groupBy). */
    groupBy: z.object({ column: z.string(), groups: z.array(equityGroupSchema) }).nullable(),
  }),
  alerts: z.array(alertSchema),
  /** Added in place (readers of older reports see the defaults): the label-free estimate and the shadow tests. */
  labelFree: labelFreeSchema.nullable().default(null),
  shadow: z.array(shadowComparisonSchema).default([]),
  /** Added in place: the random sample review (null when the report was built without the review queue). */
  review: reviewSummarySchema.nullable().default(null),
  /**
   * Version 2: the local price index the model deflates by (core/market), as the market page shows it — per
   * region, monthly levels with standard errors (the bands) and sales counts, the nowcast's trend state — so a
   * report read at the registry says what market the model's valuations were adjusted by. Null when the model
   * has none (no sale date, or market.enabled false) and in version-1 reports.
   */
  market: marketIndexSchema.nullable().default(null),
});
export type MonitoringReport = z.output<typeof monitoringReportSchema>;

/** A logged valuation with the sale price linked to it: what recording a sale answers. */
export const saleLinkSchema = z.object({
  predictionId: z.string(),
  modelId: z.string(),
  predictedAt: z.string(),
  estimate: z.number(),
  salePrice: z.number(),
  saleDate: z.string().nullable(),
  /** estimate / sale price. */
  ratio: z.number(),
});
export type SaleLink = z.output<typeof saleLinkSchema>;
