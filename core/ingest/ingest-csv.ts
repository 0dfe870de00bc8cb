import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import type { ErrorHint } from '../common/error-hints.js';
import { AppraiseError, badFile } from '../common/errors.js';
import { runWorkerTask } from '../common/worker-task.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { DatasetStore, IngestRunRecorder } from '../datasets/dataset-store.js';
import { schemaColumns, type SchemaColumn } from '../schema/row-validator.js';
import type { NormalizedValue } from '../schema/column-parser.js';
import { ingestCancelled, readCsvRows } from './csv-row-reader.js';
import { isNumberColumn, TextColumnDecoder, type CsvReaderStart, type ReadSummary, type RowBatch } from './row-batch.js';
import { buildQualityReport } from '../quality/quality-report.js';
import { BatchProfiler } from './batch-profiler.js';
import type { IngestProgress, IngestResult } from './ingest-schemas.js';

export type { IngestProgress, IngestResult };

export interface IngestOptions {
  file: string;
  config: LoadedConfig;
  /** Dataset name; defaults to the file name without extension. */
  name?: string;
  onProgress?: (p: IngestProgress) => void;
  signal?: AbortSignal;
  /**
   * Where the file is read: `worker` in a thread of its own while this thread inserts, `inline` in this thread.
   * Default: `worker` for files of 4 MiB and more. The result is the same either way.
   */
  readerThread?: 'worker' | 'inline';
}

/**
 * Files at least this large are read in a thread of their own while this one inserts (2 cores: about twice the
 * rows per second of one thread). Smaller files are not worth a thread's start-up.
 */
const READER_THREAD_MIN_BYTES = 4 << 20;
/** Batches the reader thread may run ahead of the writer: one being inserted, one being filled, one waiting. */
const READER_IN_FLIGHT = 2;
/** WAL auto-checkpoint interval while rows are staged (pages of 4 KiB). */
const STAGING_AUTOCHECKPOINT_PAGES = 10_000;
/**
 * V8 heap of the reader thread: it holds a chunk of text, the record being read (up to `maxRecordBytes`, perhaps
 * twice as UTF-16 and while it is joined to the next chunk) and a batch, never the file. Small limits make V8
 * collect early: with 64 MiB of old and the default young generation, the ingest's peak RSS was ~295 MiB at 1M
 * rows; with these ~250 MiB (measured), as with one thread before.
 */
function readerHeapLimits(maxRecordBytes: number): { maxOldGenerationSizeMb: number; maxYoungGenerationSizeMb: number } {
  return { maxOldGenerationSizeMb: 32 + Math.ceil((4 * maxRecordBytes) / 2 ** 20), maxYoungGenerationSizeMb: 8 };
}

/**
 * Streams a CSV into a new immutable dataset version.
 *
 * Reading (decode, tokenize, validate, hash: `csv-row-reader.ts`) and writing (insert, profile) are two halves
 * that hand over whole batches, so they can run in two threads; the order of rows, batches and therefore every
 * result is the same whichever way it runs (`readerThread`).
 *
 * Rows go into a staging table in batched transactions; only when the whole file is read does one transaction
 * rename the staging table and register the dataset. A crash (even kill -9) therefore leaves at most a staging
 * table, which the next `Workspace` user removes (see `recoverInterruptedIngests`). A file that cannot be the
 * configured dataset fails before anything is written; a file that turns bad half-way (encoding, binary) is
 * rolled back whole.
 */
export interface IngestTarget {
  /** The workspace connection the rows are staged through (the same database the store writes to). */
  db: Database.Database;
  datasets: DatasetStore;
}

export async function ingestCsv(target: IngestTarget, options: IngestOptions): Promise<IngestResult> {
  const started = performance.now();
  const { config, hash: configHash } = options.config;
  const file = resolve(options.file);
  const columns = schemaColumns(config);
  const { db, datasets } = target;
  const runId = randomUUID();
  const staging = `_staging_${runId.replace(/-/g, '')}`;
  let writer: BatchWriter | null = null;
  // Profiles are taken here, on the writing thread, which has time to spare; the reader is the bottleneck.
  const profiler = new BatchProfiler(columns);

  // Created with the first batch, i.e. only once the reader has accepted the header.
  const open = (): BatchWriter => {
    const recorder = datasets.beginIngestRun({
      runId,
      sourcePath: file,
      configHash,
      staging,
      columns: columns.map((c) => ({ name: c.name, sqlType: c.sqlType })),
    });
    // Row layout in the table: _row, _fp (row fingerprint, for duplicate counting), then the columns.
    return new BatchWriter(db, staging, columns, recorder);
  };

  const onBatch = (b: RowBatch) => {
    writer ??= open();
    writer.write(b);
    profiler.add(b, writer.texts);
    options.onProgress?.({
      bytesRead: b.bytesRead,
      totalBytes: b.totalBytes,
      rowsRead: b.rowsRead,
      rowsAccepted: b.rowsAccepted,
      rowsQuarantined: b.rowsQuarantined,
    });
  };

  let summary: ReadSummary;
  // Fewer, larger WAL checkpoints while staging: each one copies the pages written since the last and syncs the
  // database file; at the default (1000 pages) they cost ~0.5 µs of the ~5 µs per inserted row (measured, noisily). Durability is
  // unchanged — commits still go through the WAL — the WAL file just grows to ~40 MiB between checkpoints.
  const autoCheckpoint = db.pragma('wal_autocheckpoint', { simple: true }) as number;
  db.pragma(`wal_autocheckpoint = ${STAGING_AUTOCHECKPOINT_PAGES}`);
  try {
    const thread = options.readerThread ?? (statSize(file) >= READER_THREAD_MIN_BYTES ? 'worker' : 'inline');
    summary =
      thread === 'worker'
        ? await readInThread({ file, config: options.config, profile: false }, onBatch, options.signal)
        : await readCsvRows({ file, config: options.config, signal: options.signal, profile: false }, onBatch);
    if (summary.rowsRead === 0) throw badFile(`${file} has a header but no data rows`);
  } catch (e) {
    if (writer) datasets.abandonIngestRun(runId, staging);
    throw e;
  } finally {
    db.pragma(`wal_autocheckpoint = ${autoCheckpoint}`);
  }
  const { rowsRead, rowsAccepted, rowsQuarantined } = summary;

  const datasetId = summary.contentHash;
  const name = options.name ?? basename(file).replace(/\.(csv|txt|tsv)(\.gz)?$/i, '');
  const quality = buildQualityReport({
    columns: profiler.results(),
    rowsRead,
    rowsAccepted,
    rowsQuarantined,
    problemCounts: summary.problemCounts,
  });
  if (rowsAccepted === 0) {
    datasets.failIngestRun(runId, staging, 'no valid rows');
    const top = datasets
      .firstQuarantined(runId, 5)
      .map((r) => `  line ${r.line}: ${r.reasons.join('; ')}`)
      .join('\n');
    throw new AppraiseError(
      'INVALID_INPUT',
      `none of the ${rowsRead} rows of ${file} is valid, so no dataset was created. Most common problems:\n${top}\nSee them all with: appraise datasets quarantine ${runId}`,
      {
        details: { runId, hint: 'no-valid-rows' satisfies ErrorHint },
      },
    );
  }

  const reused = (): IngestResult => {
    // Same content, same id: keep the first version and forget this run (its quarantine duplicates the first).
    datasets.abandonIngestRun(runId, staging);
    const existing = datasets.get(datasetId);
    return {
      datasetId,
      sha256: datasetId,
      name: existing.name,
      runId,
      rowsRead,
      rowsAccepted,
      rowsQuarantined,
      reused: true,
      seconds: (performance.now() - started) / 1000,
      quality,
    };
  };
  if (datasets.find(datasetId)) return reused();

  quality.duplicateRows = summary.duplicateRows;
  let registered: boolean;
  try {
    registered = datasets.registerVersion({
      runId,
      staging,
      id: datasetId,
      name,
      config,
      configHash,
      columns: columns.map((c) => ({ name: c.name, type: c.config.type, sqlType: c.sqlType })),
      rowCount: rowsAccepted,
      sourcePath: file,
      quality,
    });
  } catch (e) {
    // Nothing half-done stays behind: the version's transaction rolled back, the staging table goes too.
    datasets.abandonIngestRun(runId, staging);
    throw e;
  }
  // Another ingest of the same content registered it between the check above and our write: a duplicate.
  if (!registered) return reused();
  return {
    datasetId,
    sha256: datasetId,
    name,
    runId,
    rowsRead,
    rowsAccepted,
    rowsQuarantined,
    reused: false,
    seconds: (performance.now() - started) / 1000,
    quality,
  };
}

/**
 * Inserts rows with multi-row INSERT statements: far fewer native calls than one statement per row. (Tried:
 * SQL literal text through exec() instead of bound parameters; measured slower here.)
 */
class BatchWriter {
  private static readonly ROWS_PER_STATEMENT = 64;
  private readonly multi: Database.Statement;
  private readonly single: Database.Statement;
  private readonly width: number;
  private readonly params: NormalizedValue[];
  private readonly one: NormalizedValue[];
  private readonly tx: (b: RowBatch) => void;
  readonly texts: (TextColumnDecoder | null)[];

  constructor(db: Database.Database, table: string, columns: SchemaColumn[], recorder: IngestRunRecorder) {
    this.width = columns.length + 2;
    const width = this.width;
    this.texts = columns.map((c) => (isNumberColumn(c) ? null : new TextColumnDecoder()));
    const row = `(${new Array(width).fill('?').join(',')})`;
    const k = BatchWriter.ROWS_PER_STATEMENT;
    this.multi = db.prepare(`INSERT INTO ${table} VALUES ${new Array(k).fill(row).join(',')}`);
    this.single = db.prepare(`INSERT INTO ${table} VALUES ${row}`);
    this.params = new Array(k * width);
    this.one = new Array(width);
    this.tx = db.transaction((b: RowBatch) => {
      this.texts.forEach((t, c) => t?.receive(b.texts[c]!));
      const n = b.rows;
      let r = 0;
      for (; r + k <= n; r += k) {
        for (let i = 0; i < k; i++) this.fill(this.params, i * this.width, b, r + i);
        // Spread, not the array: better-sqlite3 then binds each value from the call's arguments instead of
        // reading the array element by element through the V8 object API, ~20 % of the insert thread (measured).
        this.multi.run(...this.params);
      }
      for (; r < n; r++) {
        this.fill(this.one, 0, b, r);
        this.single.run(...this.one);
      }
      recorder.quarantine(b.quarantine);
      recorder.progress(b.rowsRead, b.rowsAccepted, b.rowsQuarantined);
    });
  }

  write(b: RowBatch): void {
    this.tx(b);
  }

  /** Lays row `r` of the batch out as `_row, _fp, columns…` at `at`. */
  private fill(out: NormalizedValue[], at: number, b: RowBatch, r: number): void {
    out[at] = b.rowIndex[r];
    out[at + 1] = b.fingerprints[r];
    const numbers = b.numbers;
    const texts = b.texts;
    for (let c = 0, j = at + 2; c < numbers.length; c++, j++) {
      const col = numbers[c];
      if (col) {
        const x = col[r];
        out[j] = x === x ? x : null;
      } else out[j] = this.texts[c]!.get(texts[c]!, r);
    }
  }
}

/** Runs the reader in its own thread; `onBatch` (the inserts) runs here while the reader fills the next batch. */
function readInThread(start: Omit<CsvReaderStart, 'inFlight'>, onBatch: (b: RowBatch) => void, signal?: AbortSignal): Promise<ReadSummary> {
  return runWorkerTask<CsvReaderStart, RowBatch, ReadSummary>(
    import.meta.url,
    'csv-reader-worker',
    { ...start, inFlight: READER_IN_FLIGHT },
    {
      describe: 'the ingest reader thread',
      onProgress: onBatch,
      signal,
      // The reader holds nothing to clean up: a cancel ends it at once.
      cancelMode: 'terminate',
      cancelError: ingestCancelled,
      terminateWhenSettled: true,
      resourceLimits: readerHeapLimits(start.config.config.pipeline.ingest.maxRecordBytes),
    },
  ).result;
}

function statSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0; // the reader reports a missing or unreadable file with its own message
  }
}

/**
 * Cleans up ingests whose process died (kill -9, power loss): their staging tables are dropped, so no half
 * dataset is ever visible. Runs of live processes (another CLI, the app) are left alone.
 */
export function recoverInterruptedIngests(datasets: DatasetStore): number {
  return datasets.recoverInterruptedIngests(processAlive);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
