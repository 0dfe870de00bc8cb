import { existsSync, statSync, openSync, writeSync, closeSync, renameSync, rmSync, fsyncSync, ftruncateSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { AppraiseError } from '../common/errors.js';
import type { DatasetStore } from '../datasets/dataset-store.js';
import type { StoredModel } from '../models/model-store.js';
import type { CompiledTransform } from '../features/feature-transform.js';
import { RowValidator, renameHeader } from '../schema/row-validator.js';
import type { NormalizedValue } from '../schema/column-parser.js';
import { CsvTokenizer } from '../ingest/csv-tokenizer.js';
import { openTextSource } from '../ingest/open-text-source.js';
import { OnnxInferencePool } from '../inference/onnx-inference-pool.js';
import { scoreBatches, type FeatureBatch } from '../inference/score-batches.js';
import type { JobControl } from '../common/job-control.js';
import type { ScoreResult } from './valuation-schemas.js';
import { neutralizeCsvCell, csvField } from './csv-output.js';
import { toBothSpaces } from './prediction-space.js';
import { NO_WIDENING, widenerFor } from './band-widening.js';
import { compilePropertyBand } from './property-band.js';
import { quoteIdent } from '../datasets/dataset-tables.js';
import { datasetSourceKey, fileSourceKey, readCheckpoint, writeFileAtomic, type ScoreCheckpoint } from './score-checkpoint.js';
import { adjustmentAtDate } from '../market/market-adjustment.js';
import { reinflated, withNowcastSpread } from './market-conditions.js';
import type { PredictionRecord, PredictionSink } from './prediction-sink.js';

const BATCH_ROWS = 4096;
/** How many failed rows (with their reasons) and output rows the result carries for the window. */
const MAX_FAILURES = 100;
const PREVIEW_ROWS = 10;

interface ScoreBatch extends FeatureBatch {
  /** Source row (dataset `_row`, or CSV data row), one per row. */
  rows: number[];
  /** CSV sources: the 1-based file line where each row's record starts (the header is line 1). */
  lines?: number[];
  /** Identifier columns to carry over, one array per row. */
  ids: (NormalizedValue | string)[][];
  /**
   * The row's input as read, one array per row: a CSV record's fields as written in the file (none for a record
   * too long to read), or every column of a dataset row. The CSV output starts with them.
   */
  raw: (NormalizedValue | string)[][];
  /** Rows that could not be scored: index in batch → reason. Their feature rows are NaN and their result dropped. */
  errors: Map<number, string>;
  /**
   * The input values (in `featureTransform.columns` order) of rows with a categorical feature the model sees as
   * unknown: index in batch → values. The band widening tells an unseen category from a missing one by them.
   */
  inputs?: Map<number, NormalizedValue[]>;
  /**
   * For a model with a price index: each row's log factor from the reference period to its own sale date, and the
   * nowcast's standard deviation (0 inside the data), as a single valuation applies them (market-conditions.ts).
   */
  marketFactor?: Float64Array;
  marketSd?: Float64Array;
  /**
   * When scores are logged for monitoring: each row's validated input as read (before the price index holds its
   * date at the last sale), in the order of `recordColumns`; null for a row that could not be read.
   */
  records?: (NormalizedValue[] | null)[];
  recordColumns?: readonly string[];
}

export interface ScoreToFileInput {
  model: StoredModel;
  compiled: CompiledTransform;
  datasets: DatasetStore;
  /** A dataset id/name in the workspace, or a CSV/CSV.gz file with the dataset's columns. */
  source: string;
  /** A .csv file, or `sqlite:NAME` for table `scores_NAME` in the workspace database. */
  out: string;
  job: JobControl<{ rows: number; total: number }>;
  /** For CSV sources: schema column → the file's column name, where the file names them differently. */
  columnMap?: Record<string, string>;
  /** The workspace database (for `sqlite:` outputs). */
  db: Database.Database;
  /** Opens a second connection to it, with its key when it is encrypted (for `sqlite:` outputs). */
  connect: () => Database.Database;
  /**
   * Where scored rows are logged for monitoring (the prediction log), one transaction per chunk, with the job's id;
   * absent, or a sink without `recordMany`: nothing is logged.
   */
  log?: { sink: PredictionSink; jobId: string };
}

/**
 * Batch scoring, streaming from SQLite or a CSV file through the inference worker pool into a CSV file or a
 * workspace table. Resumable: CSV output goes to `OUT.partial` with a checkpoint beside it, and a run that is
 * interrupted (crash, cancel) continues where it stopped when started again with the same model and source —
 * the same source content, not merely the same path; anything else starts over and says so in `notes`.
 */
export async function scoreToFile(input: ScoreToFileInput): Promise<ScoreResult> {
  const started = performance.now();
  const { model, compiled } = input;
  const manifest = model.manifest;
  const config = manifest.datasetConfig;
  const idColumns = Object.entries(config.dataset.columns)
    .filter(([, c]) => c.type === 'identifier')
    .map(([n]) => n);
  const levels = manifest.intervals.map((i) => i.level).sort();
  // fsd_pct and confidence: the AVM confidence statement of each row (core/valuation/property-band.ts).
  const productColumns = [
    'estimate',
    ...levels.flatMap((l) => [`low_${Math.round(l * 100)}`, `high_${Math.round(l * 100)}`]),
    'fsd_pct',
    'confidence',
    'error',
  ];
  const isFile = existsSync(input.source) && statSync(input.source).isFile();
  // A `sqlite:` table keeps its compact layout (the source row as primary key, the identifiers, the estimate
  // columns); a CSV output carries the whole input row first, then the line and the estimate columns.
  const toTable = input.out.startsWith('sqlite:');
  const inputHeader = toTable ? [] : isFile ? await readCsvHeader(input.source, config) : input.datasets.get(input.source).columns.map((c) => c.name);
  const header = toTable
    ? ['row', ...idColumns, ...productColumns]
    : [...inputHeader, ...productNames(inputHeader, [isFile ? 'line' : 'row', ...productColumns])];
  const logSink = input.log?.sink.recordMany ? input.log : null;
  const { batches, total, sourceKey } = isFile
    ? { ...csvBatches(input.source, config, compiled, idColumns, input.columnMap, manifest, logSink !== null), sourceKey: fileSourceKey(input.source) }
    : datasetBatches(input, idColumns, logSink !== null);
  const notes: string[] = [];
  const run = { modelId: model.summary.id, sourceKey, notes };
  const sink = toTable ? sqliteSink(input, header, run) : csvSink(input.out, header, run);
  const width = inputHeader.length;
  // One output line: the table's layout, or the input row as read (cut or padded to the header) and the product's cells.
  const outLine = (batch: ScoreBatch, r: number, product: (string | number | null)[]): (string | number | null)[] => {
    if (toTable) return [batch.rows[r], ...batch.ids[r].map(idText), ...product];
    const raw = batch.raw[r];
    const cells: (string | number | null)[] = new Array<string | number | null>(width);
    for (let k = 0; k < width; k++) cells[k] = inputCell(raw[k]);
    cells.push(batch.lines?.[r] ?? batch.rows[r], ...product);
    return cells;
  };
  if (sink.rowsDone > 0) notes.push(`resumed after row ${sink.rowsDone} of an interrupted run with the same model and source`);
  const skip = sink.rowsDone;
  const pool = new OnnxInferencePool();
  // The same per-property band as a single valuation: wider for unseen categories and out-of-range inputs.
  const widener = widenerFor(model);
  const band = compilePropertyBand(manifest, compiled.inverseTarget);
  const columnAt = new Map(manifest.featureTransform.columns.map((c, i) => [c.name, i]));
  const nF = compiled.nFeatures;
  let scored = 0;
  let failed = 0;
  let logged = 0;
  let done = skip;
  const toLog = logSink ? batchLogger(model, idColumns[0] ?? null, logSink.jobId) : null;
  const failures: NonNullable<ScoreResult['failures']> = [];
  const preview: NonNullable<ScoreResult['preview']> = { columns: header, rows: [] };
  try {
    await pool.loadModel(model.summary.id, model.onnx);
    const remaining = skipBatches(batches, skip);
    for await (const { batch, prediction } of scoreBatches(pool, model.summary.id, remaining, { signal: input.job.signal })) {
      const lines: (string | number | null)[][] = [];
      const entries: PredictionRecord[] = [];
      for (let r = 0; r < batch.nRows; r++) {
        const err = batch.errors.get(r);
        if (err !== undefined) {
          failed++;
          if (failures.length < MAX_FAILURES) failures.push({ row: batch.rows[r], line: batch.lines?.[r] ?? null, reason: err });
          lines.push(outLine(batch, r, [null, ...levels.flatMap(() => [null, null]), null, null, err]));
          continue;
        }
        scored++;
        const constantDate = toBothSpaces(manifest, compiled, prediction.raw[r], prediction.value[r]);
        const factor = batch.marketFactor?.[r] ?? 0;
        const { raw, estimate: est } = reinflated(constantDate, factor, compiled);
        const input = batch.inputs?.get(r);
        const modelWidening = widener ? widener(batch.X.subarray(r * nF, (r + 1) * nF), (c) => input?.[columnAt.get(c) ?? -1]) : NO_WIDENING;
        const sd = batch.marketSd?.[r] ?? 0;
        const widening =
          sd > 0
            ? withNowcastSpread(modelWidening, { logFactor: factor, sd, kind: 'nowcast', periodsAhead: 1, period: '', region: null }, est, compiled)
            : modelWidening;
        const b = band(batch.X.subarray(r * nF, (r + 1) * nF), { raw, widening });
        const bounds = levels.flatMap((l) => {
          const i = b.intervals.find((x) => x.level === l);
          return i ? [round2(i.low), round2(i.high)] : [null, null];
        });
        const fsd = b.fsd === null ? null : Math.round(b.fsd * 1000) / 10;
        lines.push(outLine(batch, r, [round2(est), ...bounds, fsd, b.confidenceTier, null]));
        const rec = batch.records?.[r];
        if (toLog && rec && batch.recordColumns) {
          const primary = b.intervals.find((x) => x.level === 0.8) ?? b.intervals[0] ?? null;
          entries.push(toLog(batch.recordColumns, rec, batch.X.subarray(r * nF, (r + 1) * nF), est, primary));
        }
      }
      done += batch.nRows;
      for (const l of lines) if (preview.rows.length < PREVIEW_ROWS) preview.rows.push(l);
      sink.write(lines, done);
      // Logged after the chunk's output (and its checkpoint) is durable: a crash in between loses at most this
      // chunk's log entries, and a resumed run never logs a row twice (it skips the rows the checkpoint counts).
      if (logSink && entries.length > 0) logged += logSink.sink.recordMany!(entries).length;
      input.job.onProgress?.({ rows: done, total });
    }
    sink.finish();
  } finally {
    await pool.close();
    sink.close();
  }
  return {
    modelId: model.summary.id,
    rows: done,
    scored,
    failed,
    output: sink.output,
    seconds: (performance.now() - started) / 1000,
    ...(notes.length > 0 ? { notes } : {}),
    ...(logSink ? { logged: { rows: logged, jobId: logSink.jobId } } : {}),
    failures,
    preview,
  };
}

/**
 * Builds a batch row's prediction-log entry as a single valuation builds its own (valuation-service.ts): the input
 * by column name, a copy of its feature row, the categorical features given a category unseen in training, the
 * estimate and the primary interval. The valuation date is the row's sale date, when it has one.
 */
function batchLogger(model: StoredModel, idColumn: string | null, jobId: string) {
  const t = model.manifest.featureTransform;
  const categories = t.features.flatMap((f, i) => (f.spec.op === 'category' ? [{ i, column: f.spec.column }] : []));
  const modelId = model.summary.id;
  return (
    columns: readonly string[],
    values: NormalizedValue[],
    features: Float32Array,
    estimate: number,
    interval: { level: number; low: number; high: number } | null,
  ): PredictionRecord => {
    const input: Record<string, NormalizedValue> = {};
    columns.forEach((c, k) => (input[c] = values[k]));
    const pid = idColumn === null ? null : input[idColumn];
    const date = t.saleDate ? input[t.saleDate] : null;
    return {
      modelId,
      source: 'score',
      predictedAt: new Date().toISOString(),
      valuationDate: typeof date === 'string' ? date : null,
      propertyId: pid === null || pid === undefined ? null : String(pid),
      input,
      features: features.slice(),
      unseen: categories.flatMap(({ i, column }) => (Number.isNaN(features[i]) && input[column] != null ? [i] : [])),
      estimate,
      interval: interval ? { level: interval.level, low: interval.low, high: interval.high } : null,
      jobId,
    };
  };
}

function idText(v: NormalizedValue | string): string {
  return v === null ? '' : String(v);
}

/**
 * An input value for the CSV output. Text stays text (a file's "0123" is written as read, never as a number), so
 * the sink neutralises and quotes it; numbers of a dataset row are written as numbers; missing or empty is null.
 */
function inputCell(v: NormalizedValue | string | undefined): string | number | null {
  if (v === null || v === undefined || v === '') return null;
  return typeof v === 'number' ? v : String(v);
}

/**
 * The product's column names in a CSV output: each prefixed `appraise_`. Should the input already have a column of
 * one of those names (compared ignoring case and surrounding spaces, as spreadsheets and databases do), the prefix
 * gets one more underscore (`appraise__estimate`, …) until none clashes, so an input column is never shadowed.
 */
export function productNames(inputHeader: readonly string[], names: readonly string[]): string[] {
  const taken = new Set(inputHeader.map((h) => h.trim().toLowerCase()));
  let prefix = 'appraise_';
  while (names.some((n) => taken.has(`${prefix}${n}`.toLowerCase()))) prefix += '_';
  return names.map((n) => `${prefix}${n}`);
}

/** The header record of a CSV source, as written (no header: none); reads only as far as the header's end. */
async function readCsvHeader(file: string, config: StoredModel['manifest']['datasetConfig']): Promise<string[]> {
  const source = openTextSource(file);
  const tokenizer = new CsvTokenizer({ delimiter: config.dataset.delimiter, maxRecordBytes: config.pipeline.ingest.maxRecordBytes });
  const first = (recs: ReturnType<CsvTokenizer['push']>): string[] | null => {
    const rec = recs[0];
    if (!rec) return null;
    if ('oversized' in rec) throw new AppraiseError('BAD_FILE', `${file}: the header line is too long to be a CSV header`);
    return rec.fields;
  };
  for await (const chunk of source.chunks) {
    const h = first(tokenizer.push(chunk));
    if (h) return h;
  }
  return first(tokenizer.end()) ?? [];
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

async function* skipBatches(batches: AsyncIterable<ScoreBatch>, skip: number): AsyncGenerator<ScoreBatch> {
  let seen = 0;
  for await (const b of batches) {
    if (seen + b.nRows <= skip) {
      seen += b.nRows;
      continue;
    }
    if (seen < skip) {
      const cut = skip - seen;
      const nF = b.nFeatures;
      const errors = new Map([...b.errors].filter(([i]) => i >= cut).map(([i, e]) => [i - cut, e]));
      const inputs = new Map([...(b.inputs ?? [])].filter(([i]) => i >= cut).map(([i, v]) => [i - cut, v]));
      seen = skip;
      yield {
        X: b.X.slice(cut * nF),
        nRows: b.nRows - cut,
        nFeatures: nF,
        rows: b.rows.slice(cut),
        ...(b.lines ? { lines: b.lines.slice(cut) } : {}),
        ids: b.ids.slice(cut),
        raw: b.raw.slice(cut),
        errors,
        inputs,
        ...(b.marketFactor ? { marketFactor: b.marketFactor.slice(cut), marketSd: b.marketSd!.slice(cut) } : {}),
        ...(b.records ? { records: b.records.slice(cut), recordColumns: b.recordColumns } : {}),
      };
      continue;
    }
    yield b;
  }
}

function datasetBatches(
  input: ScoreToFileInput,
  idColumns: string[],
  keepRecords: boolean,
): { batches: AsyncIterable<ScoreBatch>; total: number; sourceKey: string } {
  const ds = input.datasets.get(input.source);
  const t = input.model.manifest.featureTransform;
  const have = new Set(ds.columns.map((c) => c.name));
  const missing = t.columns.filter((c) => !have.has(c.name) && c.name !== t.target.column).map((c) => c.name);
  if (missing.length > 0) throw new AppraiseError('INVALID_INPUT', `dataset ${ds.name} lacks columns the model needs: ${missing.join(', ')}`);
  const idPos = idColumns.map((c) => t.columns.findIndex((x) => x.name === c));
  const nF = input.compiled.nFeatures;
  // Every column of the dataset is read (the CSV output carries them all); the model's come from their positions.
  const modelPos = t.columns.map((c) => ds.columns.findIndex((x) => x.name === c.name));
  async function* gen(): AsyncGenerator<ScoreBatch> {
    let X = new Float32Array(BATCH_ROWS * nF);
    let rows: number[] = [];
    let ids: NormalizedValue[][] = [];
    let raw: NormalizedValue[][] = [];
    let refusedRows = new Map<number, string>();
    let inputs = new Map<number, NormalizedValue[]>();
    const categorical = categoricalFeatures(input.compiled.kinds);
    const market = marketAdjuster(input.model.manifest, t.columns);
    let factor = new Float64Array(BATCH_ROWS);
    let sd = new Float64Array(BATCH_ROWS);
    const marketOf = (n: number) => (market ? { marketFactor: factor.slice(0, n), marketSd: sd.slice(0, n) } : {});
    const recordColumns = t.columns.map((c) => c.name);
    let records: (NormalizedValue[] | null)[] = [];
    const recordsOf = () => (keepRecords ? { records, recordColumns } : {});
    for (const { rowIndex, values: all } of input.datasets.iterateRows(ds, ds.columns)) {
      const values = modelPos.map((p) => (p >= 0 ? all[p] : null));
      raw.push(all);
      // The input as read, before the price index holds its date at the last sale.
      if (keepRecords) records.push(market ? values.slice() : values);
      const refused = market ? market(values, rows.length, factor, sd) : null;
      input.compiled.writeRow(values, X, rows.length * nF);
      if (refused) X.fill(NaN, rows.length * nF, rows.length * nF + nF);
      if (hasUnknownCategory(X, rows.length * nF, categorical)) inputs.set(rows.length, values);
      rows.push(rowIndex);
      ids.push(idPos.map((p) => (p >= 0 ? values[p] : null)));
      if (refused) refusedRows.set(rows.length - 1, refused);
      if (rows.length === BATCH_ROWS) {
        yield { X, nRows: rows.length, nFeatures: nF, rows, ids, raw, errors: refusedRows, inputs, ...marketOf(rows.length), ...recordsOf() };
        X = new Float32Array(BATCH_ROWS * nF);
        rows = [];
        ids = [];
        raw = [];
        records = [];
        inputs = new Map();
        refusedRows = new Map();
        factor = new Float64Array(BATCH_ROWS);
        sd = new Float64Array(BATCH_ROWS);
      }
    }
    if (rows.length > 0)
      yield {
        X: X.slice(0, rows.length * nF),
        nRows: rows.length,
        nFeatures: nF,
        rows,
        ids,
        raw,
        errors: refusedRows,
        inputs,
        ...marketOf(rows.length),
        ...recordsOf(),
      };
  }
  return { batches: gen(), total: ds.rowCount, sourceKey: datasetSourceKey(ds.id) };
}

function csvBatches(
  file: string,
  config: StoredModel['manifest']['datasetConfig'],
  compiled: CompiledTransform,
  idColumns: string[],
  columnMap: Record<string, string> | undefined,
  manifest: StoredModel['manifest'],
  keepRecords: boolean,
): { batches: AsyncIterable<ScoreBatch>; total: number } {
  const nF = compiled.nFeatures;
  // The target column is not needed to score: a file of unsold properties has none.
  const scoringConfig = {
    ...config,
    dataset: {
      ...config.dataset,
      columns: Object.fromEntries(Object.entries(config.dataset.columns).map(([n, c]) => [n, n === config.target.column ? { ...c, required: false } : c])),
    },
    target: { ...config.target, column: '__no_target__' },
  };
  async function* gen(): AsyncGenerator<ScoreBatch> {
    const source = openTextSource(file);
    const tokenizer = new CsvTokenizer({ delimiter: config.dataset.delimiter, maxRecordBytes: config.pipeline.ingest.maxRecordBytes });
    let validator: RowValidator | null = null;
    // Identifier columns: their position among the validated values, and in the file's records (for invalid rows).
    let idPos: number[] = [];
    let idFilePos: number[] = [];
    let rowNo = 0;
    let X = new Float32Array(BATCH_ROWS * nF);
    let rows: number[] = [];
    let lines: number[] = [];
    let ids: NormalizedValue[][] = [];
    let raw: string[][] = [];
    let errors = new Map<number, string>();
    let inputs = new Map<number, NormalizedValue[]>();
    const categorical = categoricalFeatures(compiled.kinds);
    const values: NormalizedValue[] = [];
    let market: MarketAdjuster | null = null;
    let factor = new Float64Array(BATCH_ROWS);
    let sd = new Float64Array(BATCH_ROWS);
    let records: (NormalizedValue[] | null)[] = [];
    let recordColumns: string[] = [];
    const emit = function* (final: boolean): Generator<ScoreBatch> {
      if (rows.length === BATCH_ROWS || (final && rows.length > 0)) {
        const n = rows.length;
        const m = market ? { marketFactor: factor.slice(0, n), marketSd: sd.slice(0, n) } : {};
        const logged = keepRecords ? { records, recordColumns } : {};
        yield { X: n === BATCH_ROWS ? X : X.slice(0, n * nF), nRows: n, nFeatures: nF, rows, lines, ids, raw, errors, inputs, ...m, ...logged };
        X = new Float32Array(BATCH_ROWS * nF);
        rows = [];
        lines = [];
        records = [];
        ids = [];
        raw = [];
        errors = new Map();
        inputs = new Map();
        factor = new Float64Array(BATCH_ROWS);
        sd = new Float64Array(BATCH_ROWS);
      }
    };
    const handle = function* (recs: ReturnType<CsvTokenizer['push']>): Generator<ScoreBatch> {
      for (const rec of recs) {
        if (!validator) {
          if ('oversized' in rec) throw new AppraiseError('BAD_FILE', `${file}: the header line is too long to be a CSV header`);
          validator = new RowValidator(scoringConfig, renameHeader(config, rec.fields, columnMap));
          idPos = idColumns.map((c) => validator!.columns.findIndex((x) => x.name === c));
          idFilePos = idColumns.map((c) => validator!.fileIndexOf(c));
          market = marketAdjuster(manifest, validator.columns);
          recordColumns = validator.columns.map((c) => c.name);
          continue;
        }
        const i = rows.length;
        rows.push(rowNo++);
        lines.push(rec.line);
        raw.push('fields' in rec ? rec.fields : []);
        let reasons: string[] | null;
        if ('oversized' in rec) reasons = ['record too long'];
        else reasons = validator.validate(rec.fields, values, 0);
        if (!reasons) ids.push(idPos.map((p) => (p >= 0 ? values[p] : null)));
        else ids.push(idFilePos.map((p) => (p >= 0 && 'fields' in rec ? (rec.fields[p]?.trim() ?? null) : null)));
        // `values` is reused for the next record, and the price index changes its date: log a copy as read.
        if (keepRecords) records.push(reasons ? null : values.slice());
        const refused = !reasons && market ? market(values, i, factor, sd) : null;
        if (refused) reasons = [refused];
        if (reasons) {
          errors.set(i, reasons.join('; '));
          X.fill(NaN, i * nF, i * nF + nF);
        } else {
          compiled.writeRow(values, X, i * nF);
          // `values` is reused for the next record: keep a copy for the band widening.
          if (hasUnknownCategory(X, i * nF, categorical)) inputs.set(i, values.slice());
        }
        yield* emit(false);
      }
    };
    for await (const chunk of source.chunks) yield* handle(tokenizer.push(chunk));
    yield* handle(tokenizer.end());
    yield* emit(true);
  }
  return { batches: gen(), total: NaN };
}

/** Sets a row's market factor and nowcast deviation (and holds its date features at the last sale); the refusal, if any. */
type MarketAdjuster = (values: NormalizedValue[], i: number, factor: Float64Array, sd: Float64Array) => string | null;

/**
 * The price index applied row by row, as a single valuation applies it (market-conditions.ts): the row's sale
 * date moves the model's constant-date value to that date's market level; a row dated past the index's horizon
 * is refused with the reason; a row without a date is valued at the reference period's level.
 */
function marketAdjuster(manifest: StoredModel['manifest'], columns: readonly { name: string }[]): MarketAdjuster | null {
  const index = manifest.market;
  if (!index) return null;
  const datePos = columns.findIndex((c) => c.name === index.saleDate);
  const regionPos = index.region ? columns.findIndex((c) => c.name === index.region!.column) : -1;
  const last = manifest.saleDateRange?.last;
  return (values, i, factor, sd) => {
    factor[i] = 0;
    sd[i] = 0;
    const d = datePos >= 0 ? values[datePos] : null;
    if (typeof d !== 'string') return null;
    try {
      const a = adjustmentAtDate(index, regionPos >= 0 ? values[regionPos] : null, d);
      factor[i] = a.logFactor;
      sd[i] = a.sd;
      if (last) values[datePos] = last;
      return null;
    } catch (e) {
      return e instanceof AppraiseError ? e.message : String(e);
    }
  };
}

/** Positions of the categorical features in a feature row. */
function categoricalFeatures(kinds: CompiledTransform['kinds']): number[] {
  return kinds.flatMap((k, i) => (k === 'categorical' ? [i] : []));
}

/** Whether the feature row at `offset` has a categorical feature the model sees as unknown (unseen or missing). */
function hasUnknownCategory(X: Float32Array, offset: number, categorical: number[]): boolean {
  for (const f of categorical) if (Number.isNaN(X[offset + f])) return true;
  return false;
}

interface Sink {
  rowsDone: number;
  output: string;
  write(lines: (string | number | null)[][], done: number): void;
  finish(): void;
  close(): void;
}

/** What identifies a run for resuming: the model and the source's content key; `notes` collects what was decided. */
interface RunKey {
  modelId: string;
  sourceKey: string;
  notes: string[];
}

function csvSink(out: string, header: string[], run: RunKey): Sink {
  const partial = `${out}.partial`;
  const checkpointFile = `${partial}.json`;
  let rowsDone = 0;
  let keepBytes = 0;
  if (existsSync(partial)) {
    const read = readCheckpoint(checkpointFile);
    const partialSize = statSync(partial).size;
    if ('problem' in read) run.notes.push(`started over: the checkpoint of the earlier run is ${read.problem}`);
    else if (read.checkpoint.modelId !== run.modelId) run.notes.push('started over: the earlier run used another model');
    else if (read.checkpoint.sourceKey !== run.sourceKey) run.notes.push('started over: the source changed since the earlier run');
    else if (read.checkpoint.bytes > partialSize) run.notes.push('started over: the partial output is shorter than its checkpoint');
    else if (JSON.stringify(read.checkpoint.header ?? null) !== JSON.stringify(header)) run.notes.push('started over: the earlier run wrote other columns');
    else {
      rowsDone = read.checkpoint.rowsDone;
      keepBytes = read.checkpoint.bytes;
    }
  }
  if (rowsDone > 0) {
    // Drop anything written after the last checkpoint (a crash between write and checkpoint).
    const fd = openSync(partial, 'r+');
    try {
      ftruncateSync(fd, keepBytes);
    } finally {
      closeSync(fd);
    }
  } else {
    rmSync(partial, { force: true });
    rmSync(checkpointFile, { force: true });
  }
  const fd = openSync(partial, rowsDone > 0 ? 'a' : 'w');
  let bytes = rowsDone > 0 ? keepBytes : 0;
  if (rowsDone === 0) bytes += writeSync(fd, `${header.map((h) => csvField(neutralizeCsvCell(h))).join(',')}\n`);
  let open = true;
  return {
    rowsDone,
    output: out,
    write(lines, done) {
      const text = lines.map((l) => l.map((v) => (v === null ? '' : typeof v === 'number' ? String(v) : csvField(neutralizeCsvCell(v)))).join(',')).join('\n');
      bytes += writeSync(fd, `${text}\n`);
      // The rows are on disk before the checkpoint that counts them; the checkpoint replaces the old one whole.
      fsyncSync(fd);
      const cp: ScoreCheckpoint = { modelId: run.modelId, sourceKey: run.sourceKey, rowsDone: done, bytes, header };
      writeFileAtomic(checkpointFile, JSON.stringify(cp));
    },
    finish() {
      closeSync(fd);
      open = false;
      renameSync(partial, out);
      rmSync(checkpointFile, { force: true });
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/**
 * Which model and source wrote each `sqlite:` score table, and how many source rows it holds. Updated in the same
 * transaction as the rows, so a resumed run knows exactly where the last one stopped — `COUNT(*)` cannot tell a
 * table of another model or source from this run's.
 */
const SCORE_RUNS_SQL = `CREATE TABLE IF NOT EXISTS score_runs (
  table_name TEXT PRIMARY KEY,
  model_id TEXT NOT NULL,
  source_key TEXT NOT NULL,
  header TEXT NOT NULL,
  rows_done INTEGER NOT NULL
)`;

function sqliteSink(input: ScoreToFileInput, header: string[], run: RunKey): Sink {
  // A second connection: the source rows are streamed by a cursor on the first one, which SQLite keeps busy.
  const db = input.connect();
  try {
    const name = input.out.slice('sqlite:'.length);
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,60}$/.test(name)) throw new AppraiseError('INVALID_INPUT', `sqlite:${name}: a table name uses letters, digits and _ only`);
    const table = `scores_${name}`;
    const sql = scoreTableSql(table, header);
    const headerJson = JSON.stringify(header);
    const open = db.transaction((): number => {
      db.exec(SCORE_RUNS_SQL);
      const meta = db.prepare('SELECT model_id, source_key, header, rows_done FROM score_runs WHERE table_name = ?').get(table) as
        { model_id: string; source_key: string; header: string; rows_done: number } | undefined;
      const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
      if (exists && meta && meta.model_id === run.modelId && meta.source_key === run.sourceKey && meta.header === headerJson) return meta.rows_done;
      if (exists) {
        const why = !meta
          ? 'it has no record of the run that wrote it'
          : meta.model_id !== run.modelId
            ? 'it was written by another model'
            : 'it was written from another source';
        run.notes.push(`started over: ${table} was replaced because ${why}`);
        db.exec(`DROP TABLE ${table}`);
      }
      db.exec(sql.create);
      db.prepare('INSERT OR REPLACE INTO score_runs (table_name, model_id, source_key, header, rows_done) VALUES (?, ?, ?, ?, 0)').run(
        table,
        run.modelId,
        run.sourceKey,
        headerJson,
      );
      return 0;
    });
    const rowsDone = open.immediate();
    const insert = db.prepare(sql.insert);
    const progress = db.prepare('UPDATE score_runs SET rows_done = ? WHERE table_name = ?');
    const tx = db.transaction((lines: (string | number | null)[][], done: number) => {
      for (const l of lines) insert.run(l);
      progress.run(done, table);
    });
    return {
      rowsDone,
      output: `${table} (workspace database)`,
      write: (lines, done) => tx(lines, done),
      finish: () => undefined,
      close: () => db.close(),
    };
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * The statements of a `sqlite:` score table. Column names come from the model's schema, which an imported
 * manifest controls: every one goes through `quoteIdent`, never into SQL as written.
 */
export function scoreTableSql(table: string, header: string[]): { create: string; insert: string } {
  const cols = header.map((h, i) => (i === 0 ? `${quoteIdent(h)} INTEGER PRIMARY KEY` : quoteIdent(h)));
  return {
    create: `CREATE TABLE IF NOT EXISTS ${table} (${cols.join(', ')})`,
    insert: `INSERT OR REPLACE INTO ${table} VALUES (${header.map(() => '?').join(',')})`,
  };
}
