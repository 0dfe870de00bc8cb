import { z } from 'zod';

/**
 * The one API contract between the UI and core/: method name → input and output zod schemas, plus the progress
 * and result schemas of methods that run as jobs. Both transports (Electron IPC, the local web host over HTTP)
 * carry exactly these methods through the same dispatcher (core/api/dispatcher.ts).
 *
 * The renderer imports this file for types only (`import type`), so no server code reaches the window.
 * Inputs are strict objects: an unknown field is an error that names the field, not something silently ignored.
 * Output objects are not strict: validating an output checks the promised fields and lets extra ones through.
 */

const ref = z.string().trim().min(1, 'give an id, an id prefix or a name').max(256);
const path = z.string().trim().min(1, 'give a file path').max(4096);
const jobId = z.string().min(1).max(64);
const empty = z.strictObject({});
const normalizedValue = z.union([z.number(), z.string(), z.null()]);
/** Values of a property keyed by the dataset's column names, as a person would type them. */
const propertyInput = z.record(z.string().max(128), z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]));
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'use an ISO date like 2015-03-31');

export const errorSchema = z.object({ name: z.string(), code: z.string(), message: z.string(), details: z.unknown().optional() });

export const accuracyMetricsSchema = z.object({
  n: z.number(),
  rmseLog: z.number(),
  rmse: z.number(),
  mae: z.number(),
  mape: z.number(),
  mdape: z.number(),
  within5: z.number(),
  within10: z.number(),
  within20: z.number(),
  r2: z.number(),
  medianRatio: z.number(),
  cod: z.number(),
  prd: z.number(),
});

const modelStatus = z.enum(['champion', 'challenger', 'archived']);
export const modelSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  status: modelStatus,
  mode: z.enum(['full', 'warm-start', 'imported']),
  createdAt: z.string(),
  datasetId: z.string().nullable(),
  datasetName: z.string().nullable(),
  parentModelId: z.string().nullable(),
  nTrees: z.number(),
  cv: accuracyMetricsSchema.nullable(),
});

export const modelManifestSchema = z.object({
  format: z.literal('appraise-model/1'),
  modelId: z.string(),
  name: z.string(),
  createdAt: z.string(),
  mode: z.string(),
  parentModelId: z.string().nullable(),
  trainingDatasetId: z.string().nullable(),
  trainingDatasetName: z.string().nullable(),
  params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  nTrees: z.number(),
  cv: accuracyMetricsSchema.extend({ folds: z.array(accuracyMetricsSchema), scheme: z.string() }).nullable(),
  intervals: z.array(z.object({ level: z.number(), quantile: z.number(), empiricalCoverage: z.number() })),
  /** Out-of-fold sale prices and estimates (a sample), for residual plots; absent for imported models. */
  residualSample: z.object({ actual: z.array(z.number()), estimate: z.array(z.number()) }).optional(),
});

export const datasetSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  rows: z.number(),
  columns: z.number(),
  config: z.string(),
  createdAt: z.string(),
  source: z.string().nullable(),
  quarantined: z.number(),
});

export const columnQualitySchema = z.object({
  name: z.string(),
  type: z.string(),
  count: z.number(),
  missing: z.number(),
  missingShare: z.number(),
  min: z.union([z.number(), z.string()]).nullable(),
  max: z.union([z.number(), z.string()]).nullable(),
  mean: z.number().nullable(),
  std: z.number().nullable(),
  quantiles: z.array(z.object({ p: z.number(), value: z.number() })).nullable(),
  distinct: z.number(),
  topValues: z.array(z.object({ value: z.string(), count: z.number(), share: z.number() })),
});

export const qualityReportSchema = z.object({
  rowsRead: z.number(),
  rowsAccepted: z.number(),
  rowsQuarantined: z.number(),
  duplicateRows: z.number().nullable(),
  columns: z.array(columnQualitySchema),
  problems: z.record(z.string(), z.record(z.string(), z.number())),
  outOfRange: z.record(z.string(), z.number()),
});

export const datasetDetailSchema = datasetSummarySchema.extend({
  columnsDetail: z.array(z.object({ name: z.string(), type: z.string(), sqlType: z.string() })),
  parentId: z.string().nullable(),
  quality: qualityReportSchema.nullable(),
});

export const quarantinePageSchema = z.object({
  total: z.number(),
  rows: z.array(z.object({ runId: z.string(), line: z.number(), raw: z.string(), reasons: z.array(z.string()) })),
});

export const ingestResultSchema = z.object({
  datasetId: z.string(),
  name: z.string(),
  runId: z.string(),
  rowsRead: z.number(),
  rowsAccepted: z.number(),
  rowsQuarantined: z.number(),
  reused: z.boolean(),
  seconds: z.number(),
});

export const ingestProgressSchema = z.object({
  bytesRead: z.number(),
  totalBytes: z.number(),
  rowsRead: z.number(),
  rowsAccepted: z.number(),
  rowsQuarantined: z.number(),
});

export const trainProgressSchema = z.object({
  phase: z.enum(['loading', 'cross-validation', 'final-model', 'export']),
  fold: z.number().optional(),
  folds: z.number().optional(),
  round: z.number().optional(),
  nRounds: z.number().optional(),
  trainLoss: z.number().optional(),
  validLoss: z.number().optional(),
});

export const trainResultSchema = z.object({
  modelId: z.string(),
  name: z.string(),
  status: z.literal('challenger'),
  cv: accuracyMetricsSchema.extend({ folds: z.array(accuracyMetricsSchema), scheme: z.string() }),
  intervals: z.array(z.object({ level: z.number(), empiricalCoverage: z.number() })),
  trainSeconds: z.number(),
  nTrees: z.number(),
  params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
});

const interval = z.object({ level: z.number(), low: z.number(), high: z.number() });
export const valuationSchema = z.object({
  modelId: z.string(),
  valuationDate: z.string().nullable(),
  estimate: z.number(),
  interval,
  intervals: z.array(interval),
  baseValue: z.number(),
  contributions: z.array(
    z.object({
      feature: z.string(),
      featureValue: z.number().nullable(),
      /** The value as a person reads it (the input field for features taken straight from a column). */
      displayValue: z.union([z.string(), z.number(), z.null()]).optional(),
      value: z.number(),
      amount: z.number(),
    }),
  ),
  comparables: z.array(
    z.object({
      rowIndex: z.number(),
      price: z.number(),
      saleDate: z.string().nullable(),
      distanceKm: z.number().nullable(),
      score: z.number(),
      latitude: z.number().nullable(),
      longitude: z.number().nullable(),
      attributes: z.record(z.string(), normalizedValue),
    }),
  ),
  warnings: z.array(z.string()),
  input: z.record(z.string(), normalizedValue),
});

export const scoreResultSchema = z.object({
  modelId: z.string(),
  rows: z.number(),
  scored: z.number(),
  failed: z.number(),
  output: z.string(),
  seconds: z.number(),
});
export const scoreProgressSchema = z.object({ rows: z.number(), total: z.number() });

/** One field of the valuation form, derived from the active dataset configuration. */
export const formFieldSchema = z.object({
  name: z.string(),
  type: z.string(),
  label: z.string(),
  unit: z.string().nullable(),
  required: z.boolean(),
  min: z.union([z.number(), z.string()]).nullable(),
  max: z.union([z.number(), z.string()]).nullable(),
  /** Allowed values (ordinal levels, fixed categories, or the most frequent categories seen in the data). */
  options: z.array(z.string()).nullable(),
  /** Only the listed options are valid (ordinals, fixed categories, booleans). */
  closed: z.boolean(),
  /** A sensible starting value: the median or most frequent value of the training data. */
  default: z.union([z.string(), z.number()]).nullable(),
});

export const formSchemaSchema = z.object({
  configName: z.string(),
  datasetId: z.string(),
  datasetName: z.string(),
  target: z.object({ column: z.string(), label: z.string(), unit: z.string().nullable() }),
  /** The sale-date column, whose value at valuation time is the valuation date; not shown as a field. */
  saleDate: z.string().nullable(),
  /** The latest sale date in the data (ISO), a sensible valuation date for a model trained on it; null: today. */
  defaultValuationDate: z.string().nullable(),
  fields: z.array(formFieldSchema),
});

export const jobStateSchema = z.enum(['running', 'done', 'failed', 'cancelled']);
export const jobInfoSchema = z.object({
  jobId: z.string(),
  method: z.string(),
  state: jobStateSchema,
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  progress: z.unknown().nullable(),
  result: z.unknown().nullable(),
  error: errorSchema.nullable(),
});
export const jobStartedSchema = z.object({ jobId: z.string() });

/** Schema column → the file's own column name, for CSVs that name columns differently. */
export const columnMapSchema = z.record(z.string().min(1).max(128), z.string().min(1).max(256));

export const historyEntrySchema = z.object({
  id: z.string(),
  savedAt: z.string(),
  label: z.string(),
  valuation: valuationSchema,
});

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
  'models.promote': { input: z.strictObject({ ref }), output: modelSummarySchema },
  'models.rollback': { input: empty, output: modelSummarySchema },
  'models.archive': { input: z.strictObject({ ref }), output: modelSummarySchema },
  'models.export': { input: z.strictObject({ ref, dir: path }), output: z.object({ onnx: z.string(), manifest: z.string() }) },
  'models.import': { input: z.strictObject({ onnx: path, manifest: path }), output: modelSummarySchema },
  train: {
    input: z.strictObject({
      dataset: ref,
      folds: z.number().int().min(2).max(20).optional(),
      foldScheme: z.enum(['random', 'time']).optional(),
      params: z.record(z.string().min(1).max(64), z.union([z.number(), z.string().max(64)])).optional(),
      warmStart: ref.optional(),
      name: z.string().trim().min(1).max(64).optional(),
      seed: z.number().int().min(0).optional(),
    }),
    output: jobStartedSchema,
  },
  value: {
    input: z.strictObject({ model: ref.default('champion'), input: propertyInput, valuationDate: isoDate.optional() }),
    output: valuationSchema,
  },
  score: { input: z.strictObject({ model: ref.default('champion'), source: path, out: path, columnMap: columnMapSchema.optional() }), output: jobStartedSchema },
  /** Matches a CSV's columns to the active schema and checks its first rows, before scoring it. */
  'batch.inspect': {
    input: z.strictObject({ source: path, columnMap: columnMapSchema.optional() }),
    output: z.object({
      file: z.string(),
      fileColumns: z.array(z.string()),
      columns: z.array(z.object({ name: z.string(), label: z.string(), required: z.boolean(), found: z.boolean() })),
      ignored: z.array(z.string()),
      missingRequired: z.array(z.string()),
      sample: z.object({ rows: z.number(), valid: z.number(), problems: z.array(z.object({ line: z.number(), reasons: z.array(z.string()) })) }),
    }),
  },
  'jobs.get': { input: z.strictObject({ jobId }), output: jobInfoSchema },
  'jobs.list': { input: empty, output: z.array(jobInfoSchema) },
  'jobs.cancel': { input: z.strictObject({ jobId }), output: jobInfoSchema },
  'history.list': { input: empty, output: z.array(historyEntrySchema) },
  'history.save': { input: z.strictObject({ label: z.string().trim().max(200).default(''), valuation: valuationSchema }), output: historyEntrySchema },
  'history.delete': { input: z.strictObject({ id: z.string().min(1).max(64) }), output: z.object({ deleted: z.boolean() }) },
} as const;

/** Progress and result of the methods that start jobs (their direct output is `{ jobId }`). */
export const jobContract = {
  'datasets.ingest': { progress: ingestProgressSchema, result: ingestResultSchema },
  train: { progress: trainProgressSchema, result: trainResultSchema },
  score: { progress: scoreProgressSchema, result: scoreResultSchema },
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
export type FormField = z.output<typeof formFieldSchema>;
export type AppInfo = z.output<typeof appInfoSchema>;
export type ApiValuation = z.output<typeof valuationSchema>;
export type HistoryEntry = z.output<typeof historyEntrySchema>;
export type ApiError = z.output<typeof errorSchema>;

/** Events pushed to every subscriber (IPC event channel, or the web host's event stream). */
export interface JobEvent {
  type: 'job';
  job: JobInfo;
}
export type ApiEvent = JobEvent;

export const methodNames = Object.keys(contract) as MethodName[];
export const isMethodName = (m: string): m is MethodName => Object.prototype.hasOwnProperty.call(contract, m);
export const isJobMethod = (m: string): m is JobMethodName => Object.prototype.hasOwnProperty.call(jobContract, m);

/** HTTP status for an error code: user errors are 4xx, only bugs are 500. */
export function httpStatusFor(code: string): number {
  switch (code) {
    case 'INVALID_INPUT':
    case 'INVALID_CONFIG':
    case 'BAD_FILE':
      return 400;
    case 'UNAUTHORIZED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'CONFLICT':
    case 'CANCELLED':
      return 409;
    case 'TOO_LARGE':
      return 413;
    case 'OFFLINE':
      return 503;
    default:
      return 500;
  }
}
