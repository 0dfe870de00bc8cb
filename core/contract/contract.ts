import { z } from 'zod';
import type { serializedErrorSchema } from '../common/errors.js';
import { datasetDetailSchema, datasetSummarySchema, quarantinePageSchema } from '../datasets/dataset-schemas.js';
import { ingestJobResultSchema, ingestProgressSchema } from '../ingest/ingest-schemas.js';
import { jobInfoSchema, jobStartedSchema } from './job-schemas.js';
import { championHistorySchema, modelManifestSchema, modelSummarySchema } from '../models/model-schemas.js';
import { qualityReportSchema } from '../quality/quality-schemas.js';
import { trainProgressSchema, trainRequestSchema, trainResultSchema } from '../training/training-schemas.js';
import {
  gridEditsSchema,
  historyEntrySchema,
  scoreProgressSchema,
  scoreResultSchema,
  typicalSaleSchema,
  valuationGridSchema,
  valuationSchema,
} from '../valuation/valuation-schemas.js';
import { batchInspectionSchema } from '../valuation/batch-inspect.js';
import { formSchemaSchema } from '../valuation/valuation-form.js';
import { demoLoadResultSchema } from '../services/demo-schemas.js';
import { recentErrorSchema } from '../logging/log-schemas.js';
import {
  monitoringReportSchema,
  retrainingRunSchema,
  retrainProgressSchema,
  reviewSampleSchema,
  reviewVerdictSchema,
  saleLinkSchema,
  storedAlertSchema,
} from '../monitoring/monitoring-schemas.js';
import { marketIndexViewSchema } from '../market/market-schemas.js';
import {
  promotionPolicyInputSchema,
  promotionPolicySchema,
  setPromotionPolicyInputSchema,
  syncCycleSchema,
  syncEnrolInputSchema,
  syncNowInputSchema,
  syncStatusInputSchema,
  syncStatusSchema,
} from '../sync/sync-schemas.js';
import { reportSettingsInputSchema, reportSettingsSchema } from '../valuation/report-settings-schemas.js';
import { sessionStatusSchema, sessionUnlockInputSchema } from './session-schemas.js';

/**
 * The one API contract between the UI and core/: method name → input and output zod schemas, plus the progress
 * and result schemas of methods that run as jobs. Both transports (Electron IPC, the local web host over HTTP)
 * carry exactly these methods through the same dispatcher (core/api/dispatcher.ts). The shapes themselves live
 * beside their domain (`core/<domain>/<domain>-schemas.ts`); this file only composes them.
 *
 * The renderer imports this file for types only (`import type`), so no server code reaches the window.
 * Inputs are strict objects: an unknown field is an error that names the field, not something silently ignored.
 * Output objects are not strict: validating an output checks the promised fields and lets extra ones through.
 */

const ref = z.string().trim().min(1, 'give an id, an id prefix or a name').max(256);
const path = z.string().trim().min(1, 'give a file path').max(4096);
const jobId = z.string().min(1).max(64);
const empty = z.strictObject({});
/** Values of a property keyed by the dataset's column names, as a person would type them. */
const propertyInput = z.record(z.string().max(128), z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]));
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'use an ISO date like 2015-03-31');
/** Schema column → the file's own column name, for CSVs that name columns differently. */
const columnMapSchema = z.record(z.string().min(1).max(128), z.string().min(1).max(256));

export const appInfoSchema = z.object({
  version: z.string(),
  workspace: z.string(),
  champion: modelSummarySchema.nullable(),
  form: formSchemaSchema.nullable(),
  /** The bundled King County demo, when this installation has it. */
  demo: z.object({ csv: z.string(), config: z.string() }).nullable(),
  /** Which services this build has wired (the rest answer NOT_FOUND). */
  services: z.object({ models: z.boolean(), training: z.boolean(), valuation: z.boolean() }),
});

/** Methods that answer at once. */
export const contract = {
  'app.info': { input: empty, output: appInfoSchema },
  /** First run: the bundled demo data and its model (as champion when there is none), so the window can value at once. */
  'app.loadDemo': { input: empty, output: jobStartedSchema },
  'form.validate': {
    input: z.strictObject({ input: propertyInput }),
    output: z.object({ ok: z.boolean(), errors: z.array(z.object({ field: z.string(), message: z.string() })) }),
  },
  'datasets.list': { input: empty, output: z.array(datasetSummarySchema) },
  'datasets.get': { input: z.strictObject({ ref }), output: datasetDetailSchema },
  'datasets.delete': { input: z.strictObject({ ref }), output: datasetSummarySchema },
  'datasets.quarantine': {
    input: z.strictObject({ ref, limit: z.number().int().min(1).max(10_000).optional(), offset: z.number().int().min(0).optional() }),
    output: quarantinePageSchema,
  },
  'datasets.quality': { input: z.strictObject({ ref }), output: qualityReportSchema.nullable() },
  'datasets.ingest': {
    input: z.strictObject({ file: path, config: path, name: z.string().trim().min(1).max(64).optional() }),
    output: jobStartedSchema,
  },
  'models.list': { input: empty, output: z.array(modelSummarySchema) },
  'models.manifest': { input: z.strictObject({ ref }), output: modelManifestSchema },
  /** `reason`: why, kept in the champion history with who and when. */
  'models.promote': { input: z.strictObject({ ref, reason: z.string().trim().max(500).optional() }), output: modelSummarySchema },
  'models.rollback': { input: z.strictObject({ reason: z.string().trim().max(500).optional() }), output: modelSummarySchema },
  /** Who changed the champion, when and why, and which model a rollback would restore now. */
  'models.history': { input: empty, output: championHistorySchema },
  'models.archive': { input: z.strictObject({ ref }), output: modelSummarySchema },
  'models.export': { input: z.strictObject({ ref, dir: path }), output: z.object({ onnx: z.string(), manifest: z.string() }) },
  'models.import': { input: z.strictObject({ onnx: path, manifest: path }), output: modelSummarySchema },
  // The window cannot name local fold files or thread counts: those stay with the CLI.
  train: { input: trainRequestSchema.omit({ foldsFile: true, threads: true }), output: jobStartedSchema },
  value: {
    input: z.strictObject({
      model: ref.default('champion'),
      input: propertyInput,
      valuationDate: isoDate.optional(),
      /** Also build the adjustment grid (several times the work); the window asks `valuation.grid` instead. */
      grid: z.boolean().optional(),
    }),
    output: valuationSchema,
  },
  /** The sales comparison grid of a property on request, with the appraiser's exclusions, added sales and overrides. */
  'valuation.grid': {
    input: z.strictObject({ model: ref.default('champion'), input: propertyInput, valuationDate: isoDate.optional(), edits: gridEditsSchema.optional() }),
    output: valuationGridSchema,
  },
  /** The one real sale the valuation form's typical values come from (the medoid on the form's fields). */
  'valuation.typical': { input: z.strictObject({ model: ref.default('champion') }), output: typicalSaleSchema },
  score: {
    input: z.strictObject({ model: ref.default('champion'), source: path, out: path, columnMap: columnMapSchema.optional() }),
    output: jobStartedSchema,
  },
  /** Matches a CSV's columns to the active schema and checks its first rows, before scoring it. */
  'batch.inspect': { input: z.strictObject({ source: path, columnMap: columnMapSchema.optional() }), output: batchInspectionSchema },
  'jobs.get': { input: z.strictObject({ jobId }), output: jobInfoSchema },
  'jobs.list': { input: empty, output: z.array(jobInfoSchema) },
  'jobs.cancel': { input: z.strictObject({ jobId }), output: jobInfoSchema },
  'history.list': { input: empty, output: z.array(historyEntrySchema) },
  'history.save': { input: z.strictObject({ label: z.string().trim().max(200).default(''), valuation: valuationSchema }), output: historyEntrySchema },
  /** The newest errors in this workspace's logs, for the app's problems panel (newest first). */
  'logs.recent': { input: z.strictObject({ limit: z.number().int().min(1).max(200).default(20) }), output: z.array(recentErrorSchema) },
  'history.delete': { input: z.strictObject({ id: z.string().min(1).max(64) }), output: z.object({ deleted: z.boolean() }) },
  /** The monitoring report of a model (default the champion) over a window of its prediction log. */
  'monitoring.report': {
    input: z.strictObject({ model: ref.optional(), since: z.string().trim().max(40).optional(), until: z.string().trim().max(40).optional() }),
    output: monitoringReportSchema,
  },
  /** The local price index (core/market) of a model (default the champion: the one its valuations use) or of a dataset. */
  'market.index': { input: z.strictObject({ model: ref.optional(), dataset: ref.optional() }), output: marketIndexViewSchema },
  /** Links the actual sale price to one logged valuation (its `predictionId`). */
  'monitoring.recordSale': {
    input: z.strictObject({ predictionId: z.string().min(1).max(64), price: z.number().positive().finite(), saleDate: isoDate.optional() }),
    output: saleLinkSchema,
  },
  /** Stored monitoring alerts, newest first (each check's alerts: `appraise monitor alerts --check`). */
  'monitoring.alerts': {
    input: z.strictObject({ model: ref.optional(), since: z.string().trim().max(40).optional(), limit: z.number().int().min(1).max(1000).optional() }),
    output: z.array(storedAlertSchema),
  },
  /**
   * Runs the monitoring checks now on a model's valuations (default the champion, all of them: what
   * `appraise monitor alerts --check` does) and stores and audits the alerts raised; analyst only (it writes).
   */
  'monitoring.checkAlerts': {
    input: z.strictObject({ model: ref.optional() }),
    output: z.array(storedAlertSchema),
  },
  /** Marks a stored alert acknowledged (seen, being dealt with) by the session's user, with a note; audited. */
  'monitoring.acknowledgeAlert': {
    input: z.strictObject({ id: z.number().int().positive(), note: z.string().max(1000).optional() }),
    output: storedAlertSchema,
  },
  /** The random sample review queue (valuations drawn for review), newest first; default the open ones. */
  'monitoring.reviews': {
    input: z.strictObject({
      model: ref.optional(),
      since: z.string().trim().max(40).optional(),
      status: z.enum(['open', 'reviewed', 'all']).optional(),
      limit: z.number().int().min(1).max(1000).optional(),
    }),
    output: z.array(reviewSampleSchema),
  },
  /** A reviewer's verdict on a valuation drawn for review (agree / adjust with the reviewer's value / disagree); audited. */
  'monitoring.recordReview': {
    input: z.strictObject({
      predictionId: z.string().min(1).max(64),
      verdict: reviewVerdictSchema,
      amount: z.number().positive().finite().optional(),
      notes: z.string().max(2000).optional(),
    }),
    output: reviewSampleSchema,
  },
  /**
   * One step of the retraining policy as a background job (analyst): judge the challenger in shadow, or train one
   * when trigger alerts fired and enough new sales are linked. One at a time (CONFLICT while one runs).
   * `trigger` 'schedule' is what the app's periodic check passes; a person leaves it out.
   */
  'monitoring.retrain': {
    input: z.strictObject({
      policy: z.enum(['auto', 'ask']).optional(),
      since: z.string().trim().max(40).optional(),
      trigger: z.enum(['manual', 'schedule']).default('manual'),
      /** Train even within the retraining cooldown: a person's confirmed decision, audited (refused with trigger 'schedule'). */
      force: z.boolean().optional(),
    }),
    output: jobStartedSchema,
  },
  /** The retraining history, newest first: when, what started it, the challenger it produced or judged, the outcome. */
  'monitoring.retrainingRuns': {
    input: z.strictObject({ limit: z.number().int().min(1).max(500).optional() }),
    output: z.array(retrainingRunSchema),
  },
  /** Enrolment with the registry, the last sync cycle (its error in words), the outbox depth, the next cycle. */
  'sync.status': { input: syncStatusInputSchema, output: syncStatusSchema },
  /** Runs a sync cycle now (or joins the running one): pull models as challengers, queue and push reports. */
  'sync.now': { input: syncNowInputSchema, output: syncCycleSchema },
  /** Enrols this workspace with the registry from the window (analyst, audited); answers the new status. */
  'sync.enrol': { input: syncEnrolInputSchema, output: syncStatusSchema },
  /** The automatic promotion policy for pulled models and where it comes from (workspace setting, YAML, default). */
  'sync.promotionPolicy': { input: promotionPolicyInputSchema, output: promotionPolicySchema },
  /** Sets or (policy null) removes the workspace's automatic promotion policy; analyst only, audited. */
  'sync.setPromotionPolicy': { input: setPromotionPolicyInputSchema, output: promotionPolicySchema },
  /**
   * The workspace's report texts, rounding and appraiser defaults (the defaults while none are stored): read by
   * every report, so an appraiser may call it; changing them is `settings.setReport`.
   */
  'reports.settings': { input: empty, output: reportSettingsSchema },
  /** Replaces the report settings; an audited settings change (analyst role). */
  'settings.setReport': { input: reportSettingsInputSchema, output: reportSettingsSchema },
  /** The session's idle lock (core/api/session-lock.ts): answered even while locked, so the lock screen can poll it. */
  'session.status': { input: empty, output: sessionStatusSchema },
  /** Locks the session now (the app's Lock button); CONFLICT on a host without an idle lock (nothing could unlock it). */
  'session.lock': { input: empty, output: sessionStatusSchema },
  /** Unlocks with the workspace passphrase (or the host's lock passphrase); a wrong one is LOCKED and audited. */
  'session.unlock': { input: sessionUnlockInputSchema, output: sessionStatusSchema },
} as const;

/** Progress and result of the methods that start jobs (their direct output is `{ jobId }`). */
export const jobContract = {
  'app.loadDemo': { progress: ingestProgressSchema, result: demoLoadResultSchema },
  'datasets.ingest': { progress: ingestProgressSchema, result: ingestJobResultSchema },
  train: { progress: trainProgressSchema, result: trainResultSchema },
  score: { progress: scoreProgressSchema, result: scoreResultSchema },
  'monitoring.retrain': { progress: retrainProgressSchema, result: retrainingRunSchema },
} as const;

export type Contract = typeof contract;
export type MethodName = keyof Contract;
export type JobMethodName = keyof typeof jobContract;
/** What a caller sends (defaults may be left out). */
export type MethodInput<M extends MethodName> = z.input<Contract[M]['input']>;
/** What a handler receives after validation (defaults filled in). */
export type ParsedInput<M extends MethodName> = z.output<Contract[M]['input']>;
export type MethodOutput<M extends MethodName> = z.output<Contract[M]['output']>;
export type JobProgress<M extends JobMethodName> = z.output<(typeof jobContract)[M]['progress']>;
export type JobResult<M extends JobMethodName> = z.output<(typeof jobContract)[M]['result']>;
export type JobInfo = z.output<typeof jobInfoSchema>;
export type FormSchema = z.output<typeof formSchemaSchema>;
export type FormField = FormSchema['fields'][number];
export type AppInfo = z.output<typeof appInfoSchema>;
export type ApiValuation = z.output<typeof valuationSchema>;
export type HistoryEntry = z.output<typeof historyEntrySchema>;
export type ReportSettings = z.output<typeof reportSettingsSchema>;
export type ApiError = z.output<typeof serializedErrorSchema>;
/** A job request as it travels to whoever runs it (a worker thread or this thread): the method and its input. */
export type JobRequest = { [M in JobMethodName]: { method: M; input: ParsedInput<M> } }[JobMethodName];

/** Events pushed to every subscriber (IPC event channel, or the web host's event stream). */
export interface JobEvent {
  type: 'job';
  job: JobInfo;
}
export type ApiEvent = JobEvent;

export const methodNames = Object.keys(contract) as MethodName[];
export const isMethodName = (m: string): m is MethodName => Object.prototype.hasOwnProperty.call(contract, m);
