import { createHash } from 'node:crypto';
import { AppraiseError, badFile } from '../common/errors.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { DatasetConfig } from '../config/dataset-config.schema.js';
import type { NormalizedValue } from '../schema/column-parser.js';
import { RowValidator, type SchemaColumn } from '../schema/row-validator.js';
import { BatchProfiler } from './batch-profiler.js';
import { CsvTokenizer, type RecordSink, type TokenizedRecord } from './csv-tokenizer.js';
import { FastRecordParser } from './fast-record-parser.js';
import { openTextSource } from './open-text-source.js';
import { emptyBatch, isNumberColumn, TextColumnEncoder, type ReadSummary, type RowBatch } from './row-batch.js';
import { RowEncoder } from './row-encoder.js';
import { DuplicateCounter } from './duplicate-counter.js';

const QUARANTINE_RAW_MAX = 4096;

/** The error of a cancelled ingest, wherever the cancel lands (reader loop or reader thread). */
export const ingestCancelled = () => new AppraiseError('CANCELLED', 'ingest cancelled; nothing was stored');

export interface CsvRowReaderOptions {
  file: string;
  config: LoadedConfig;
  signal?: AbortSignal;
  /**
   * Profile the columns here (default). `false` when the caller profiles the batches itself, on another thread
   * (`ingest-csv.ts`): the summary's `columns` is then empty.
   */
  profile?: boolean;
}

/**
 * The reading half of ingest: decodes, tokenizes and validates the file, hashes the valid rows (dataset id and
 * per-row fingerprints) and hands them on in batches of `pipeline.ingest.batchSize` rows. It never touches the
 * database, so it can run in a thread of its own while another thread inserts (see `ingest-csv.ts`).
 *
 * `emit` is awaited before the next batch is filled: that is the back-pressure that keeps memory bounded when
 * the writer is slower than the reader. A file that cannot be the configured dataset (no header, missing
 * required columns) is refused before the first batch.
 */
export async function readCsvRows(options: CsvRowReaderOptions, emit: (batch: RowBatch) => void | Promise<void>): Promise<ReadSummary> {
  const { config, hash: configHash } = options.config;
  const file = options.file;
  const maxRecordBytes = config.pipeline.ingest.maxRecordBytes;
  const source = openTextSource(file);
  const tokenizer = new CsvTokenizer({ delimiter: config.dataset.delimiter, maxRecordBytes });
  const chunks = source.chunks[Symbol.asyncIterator]();
  let filler: BatchFiller | null = null;
  try {
    const contentHash = createHash('sha256').update(`appraise-dataset/2\u001e${configHash}\u001e`);
    // Batches are filled synchronously by the tokenizer's callbacks; full ones wait here for `emit`.
    const full: RowBatch[] = [];
    // The first record is the header: everything that can be refused is refused before a single row is handed on.
    const start = (header: string[]): BatchFiller => {
      const validator = new RowValidator(config, header);
      const f = new BatchFiller(validator, config, maxRecordBytes, options.profile !== false);
      f.onFull = () => {
        const batch = f.take();
        f.profiler?.add(batch, f.texts);
        contentHash.update(f.encoder.contents());
        f.encoder.reset();
        batch.bytesRead = source.bytesRead();
        batch.totalBytes = source.totalBytes;
        full.push(batch);
      };
      return f;
    };
    // Used until the header has been read; then the filler takes the records directly.
    const headerFirst: RecordSink = {
      line(text, s, e, lineNo) {
        if (filler) filler.line(text, s, e, lineNo);
        else filler = start(text.slice(s, e).split(config.dataset.delimiter));
      },
      record(rec) {
        if (filler) filler.record(rec);
        else if ('oversized' in rec) throw badFile(`${file}: the first line is longer than ${maxRecordBytes} bytes; it is not a CSV header`);
        else filler = start(rec.fields);
      },
    };
    const drain = async () => {
      while (full.length > 0) await emit(full.shift()!);
    };
    for (;;) {
      await drain();
      if (options.signal?.aborted) throw ingestCancelled();
      const next = await chunks.next();
      if (next.done) break;
      tokenizer.pushTo(next.value, filler ?? headerFirst);
    }
    tokenizer.endTo(filler ?? headerFirst);
    // (Assigned in the sink's callbacks, which the compiler does not follow.)
    const done = filler as BatchFiller | null;
    if (!done) throw badFile(`${file} has no header row`);
    done.onFull();
    await drain();
    const { rowsRead, rowsAccepted, rowsQuarantined } = done;
    return {
      rowsRead,
      rowsAccepted,
      rowsQuarantined,
      contentHash: contentHash.digest('hex'),
      problemCounts: done.validator.problemCounts,
      duplicateRows: done.duplicates.count(),
      columns: done.profiler?.results() ?? [],
    };
  } finally {
    (filler as BatchFiller | null)?.duplicates.close();
    await chunks.return?.(undefined);
  }
}

/**
 * Receives the tokenizer's records in order and fills batches: quote-free records through the fast path, the rest
 * (and whatever the fast path declines) through the validator, which also gives every reason for the quarantine.
 */
class BatchFiller implements RecordSink {
  readonly encoder = new RowEncoder();
  readonly duplicates = new DuplicateCounter();
  readonly profiler: BatchProfiler | null;
  readonly texts: (TextColumnEncoder | null)[];
  rowsRead = 0;
  rowsAccepted = 0;
  rowsQuarantined = 0;
  /** Called when the batch is full (rows or quarantine); it must `take()` it. */
  onFull: () => void = () => undefined;
  private batch: RowBatch;
  private readonly columns: SchemaColumn[];
  private readonly row: NormalizedValue[];
  private readonly fast: FastRecordParser;
  private readonly delimiter: string;
  private readonly batchSize: number;

  constructor(
    readonly validator: RowValidator,
    config: DatasetConfig,
    private readonly maxRecordBytes: number,
    profile: boolean,
  ) {
    this.columns = validator.columns;
    this.texts = this.columns.map((c) => (isNumberColumn(c) ? null : new TextColumnEncoder(c.config.type !== 'identifier')));
    this.fast = new FastRecordParser(validator, config, this.texts);
    this.delimiter = config.dataset.delimiter;
    this.batchSize = config.pipeline.ingest.batchSize;
    this.profiler = profile ? new BatchProfiler(this.columns) : null;
    this.row = new Array(this.columns.length);
    this.batch = emptyBatch(this.columns, this.batchSize);
  }

  /** The batch filled so far, with the running totals; a new one is started. */
  take(): RowBatch {
    const b = this.batch;
    this.texts.forEach((t, c) => t?.seal(b.texts[c]!));
    b.rowsRead = this.rowsRead;
    b.rowsAccepted = this.rowsAccepted;
    b.rowsQuarantined = this.rowsQuarantined;
    this.batch = emptyBatch(this.columns, this.batchSize);
    return b;
  }

  line(text: string, start: number, end: number, lineNo: number): void {
    const rowIndex = this.rowsRead++;
    const b = this.batch;
    const fp = this.fast.parse(text, start, end, b, b.rows, this.encoder, rowIndex);
    if (fp === -1) {
      const raw = text.slice(start, end);
      this.general(lineNo, raw.split(this.delimiter), raw, rowIndex);
      return;
    }
    this.accepted(rowIndex, fp);
  }

  record(rec: TokenizedRecord): void {
    const rowIndex = this.rowsRead++;
    if ('oversized' in rec) {
      this.quarantine(rec.line, `${rec.head}…`, [`record longer than ${this.maxRecordBytes} bytes; skipped without reading it whole`]);
      return;
    }
    this.general(rec.line, rec.fields, rec.raw, rowIndex);
  }

  private general(lineNo: number, fields: string[], raw: string, rowIndex: number): void {
    const row = this.row;
    const reasons = this.validator.validate(fields, row, 0);
    if (reasons) {
      this.quarantine(lineNo, raw.length > QUARANTINE_RAW_MAX ? `${raw.slice(0, QUARANTINE_RAW_MAX)}…` : raw, reasons);
      return;
    }
    const b = this.batch;
    const r = b.rows;
    const fp = this.encoder.addRow(rowIndex, row, 0, row.length);
    for (let c = 0; c < row.length; c++) {
      const numbers = b.numbers[c];
      const v = row[c];
      if (numbers) numbers[r] = v === null ? NaN : (v as number);
      else this.texts[c]!.set(b.texts[c]!, r, v as string | null);
    }
    this.accepted(rowIndex, fp);
  }

  private accepted(rowIndex: number, fp: number): void {
    const b = this.batch;
    const r = b.rows++;
    b.rowIndex[r] = rowIndex;
    b.fingerprints[r] = fp;
    this.duplicates.add(fp);
    this.rowsAccepted++;
    if (b.rows === this.batchSize) this.onFull();
  }

  private quarantine(lineNo: number, raw: string, reasons: string[]): void {
    this.rowsQuarantined++;
    const b = this.batch;
    b.quarantine.push([lineNo, raw, JSON.stringify(reasons)]);
    if (b.quarantine.length >= this.batchSize) this.onFull();
  }
}
