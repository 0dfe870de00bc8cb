import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { AppraiseError, badFile, deserializeError } from '../common/errors.js';
import { startWorker } from '../common/worker-entry.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Workspace } from '../workspace/workspace.js';
import { schemaColumns, type SchemaColumn } from '../schema/row-validator.js';
import type { NormalizedValue } from '../schema/column-parser.js';
import { ingestCancelled, readCsvRows } from './csv-row-reader.js';
import { isNumberColumn, TextColumnDecoder, type CsvReaderCommand, type CsvReaderMessage, type CsvReaderStart, type ReadSummary, type RowBatch } from './row-batch.js';
import { buildQualityReport, type QualityReport } from '../quality/quality-report.js';
import { quoteIdent, datasetTableName } from '../datasets/dataset-tables.js';

export interface IngestProgress {
  bytesRead: number;
  totalBytes: number;
  rowsRead: number;
  rowsAccepted: number;
  rowsQuarantined: number;
}

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

export interface IngestResult {
  datasetId: string;
  /** sha256 of the normalized content; equals datasetId (kept separate so the id scheme can change). */
  sha256: string;
  name: string;
  runId: string;
  rowsRead: number;
  rowsAccepted: number;
  rowsQuarantined: number;
  /** True when an identical dataset version already existed: nothing new was stored. */
  reused: boolean;
  seconds: number;
  quality: QualityReport;
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
 * Reading (decode, tokenize, validate, hash, profile: `csv-row-reader.ts`) and writing (insert) are two halves
 * that hand over whole batches, so they can run in two threads; the order of rows, batches and therefore every
 * result is the same whichever way it runs (`readerThread`).
 *
 * Rows go into a staging table in batched transactions; only when the whole file is read does one transaction
 * rename the staging table and register the dataset. A crash (even kill -9) therefore leaves at most a staging
 * table, which the next `Workspace` user removes (see `recoverInterruptedIngests`). A file that cannot be the
 * configured dataset fails before anything is written; a file that turns bad half-way (encoding, binary) is
 * rolled back whole.
 */
export async function ingestCsv(ws: Workspace, options: IngestOptions): Promise<IngestResult> {
  const started = performance.now();
  const { config, hash: configHash } = options.config;
  const file = resolve(options.file);
  const columns = schemaColumns(config);
  const db = ws.db;
  const runId = randomUUID();
  const staging = `_staging_${runId.replace(/-/g, '')}`;
  let writer: BatchWriter | null = null;

  // Created with the first batch, i.e. only once the reader has accepted the header.
  const open = (): BatchWriter => {
    db.transaction(() => {
      db.prepare(
        `INSERT INTO ingest_runs (id, source_path, config_hash, status, pid, staging_table, started_at) VALUES (?, ?, ?, 'running', ?, ?, ?)`,
      ).run(runId, file, configHash, process.pid, staging, new Date().toISOString());
      db.exec(`CREATE TABLE ${staging} (_row INTEGER PRIMARY KEY, _fp INTEGER NOT NULL, ${columns.map((c) => `${quoteIdent(c.name)} ${c.sqlType}`).join(', ')})`);
    })();
    // Row layout in the table: _row, _fp (row fingerprint, for duplicate counting), then the columns.
    return new BatchWriter(db, staging, columns, runId);
  };

  const onBatch = (b: RowBatch) => {
    writer ??= open();
    writer.write(b);
    options.onProgress?.({ bytesRead: b.bytesRead, totalBytes: b.totalBytes, rowsRead: b.rowsRead, rowsAccepted: b.rowsAccepted, rowsQuarantined: b.rowsQuarantined });
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
        ? await readInThread({ file, config: options.config }, onBatch, options.signal)
        : await readCsvRows({ file, config: options.config, signal: options.signal }, onBatch);
    if (summary.rowsRead === 0) throw badFile(`${file} has a header but no data rows`);
  } catch (e) {
    if (writer) abandonRun(db, runId, staging);
    throw e;
  } finally {
    db.pragma(`wal_autocheckpoint = ${autoCheckpoint}`);
  }
  const { rowsRead, rowsAccepted, rowsQuarantined } = summary;

  const datasetId = summary.contentHash;
  const name = options.name ?? basename(file).replace(/\.(csv|txt|tsv)(\.gz)?$/i, '');
  const quality = buildQualityReport({
    columns: summary.columns,
    rowsRead,
    rowsAccepted,
    rowsQuarantined,
    problemCounts: summary.problemCounts,
  });
  if (rowsAccepted === 0) {
    finishRun(db, runId, 'failed', null, 'no valid rows');
    db.exec(`DROP TABLE IF EXISTS ${staging}`);
    const top = topReasons(db, runId);
    throw new AppraiseError('INVALID_INPUT', `none of the ${rowsRead} rows of ${file} is valid, so no dataset was created. Most common problems:\n${top}\nSee them all with: appraise datasets quarantine ${runId}`, {
      details: { runId },
    });
  }

  const existing = db.prepare('SELECT id, name FROM datasets WHERE id = ?').get(datasetId) as { id: string; name: string } | undefined;
  if (existing) {
    // Same content, same id: keep the first version and forget this run (its quarantine duplicates the first).
    db.transaction(() => {
      db.exec(`DROP TABLE ${staging}`);
      db.prepare('DELETE FROM ingest_runs WHERE id = ?').run(runId);
    })();
    return { datasetId, sha256: datasetId, name: existing.name, runId, rowsRead, rowsAccepted, rowsQuarantined, reused: true, seconds: (performance.now() - started) / 1000, quality };
  }

  quality.duplicateRows = summary.duplicateRows;
  const table = datasetTableName(datasetId);
  db.transaction(() => {
    db.exec(`ALTER TABLE ${staging} RENAME TO ${table}`);
    db.prepare(
      `INSERT INTO datasets (id, name, table_name, config_name, config_hash, config_json, columns_json, row_count, source_path, quality_json, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      datasetId,
      name,
      table,
      config.name,
      configHash,
      JSON.stringify(config),
      JSON.stringify(columns.map((c) => ({ name: c.name, type: c.config.type, sqlType: c.sqlType }))),
      rowsAccepted,
      file,
      JSON.stringify(quality),
      new Date().toISOString(),
    );
    finishRun(db, runId, 'completed', datasetId, null);
  })();
  return { datasetId, sha256: datasetId, name, runId, rowsRead, rowsAccepted, rowsQuarantined, reused: false, seconds: (performance.now() - started) / 1000, quality };
}

/**
 * Inserts rows with multi-row INSERT statements: far fewer native calls than one statement per row. (Tried:
 * SQL literal text through exec() instead of bound parameters; measured slower here.)
 */
class BatchWriter {
  private static readonly ROWS_PER_STATEMENT = 64;
  private readonly multi: Database.Statement;
  private readonly single: Database.Statement;
  private readonly quarantine: Database.Statement;
  private readonly progress: Database.Statement;
  private readonly width: number;
  private readonly params: NormalizedValue[];
  private readonly one: NormalizedValue[];
  private readonly tx: (b: RowBatch) => void;
  private readonly texts: (TextColumnDecoder | null)[];

  constructor(db: Database.Database, table: string, columns: SchemaColumn[], runId: string) {
    this.width = columns.length + 2;
    const width = this.width;
    this.texts = columns.map((c) => (isNumberColumn(c) ? null : new TextColumnDecoder()));
    const row = `(${new Array(width).fill('?').join(',')})`;
    const k = BatchWriter.ROWS_PER_STATEMENT;
    this.multi = db.prepare(`INSERT INTO ${table} VALUES ${new Array(k).fill(row).join(',')}`);
    this.single = db.prepare(`INSERT INTO ${table} VALUES ${row}`);
    this.quarantine = db.prepare(`INSERT INTO quarantine (run_id, line, raw, reasons_json) VALUES ('${runId}', ?, ?, ?)`);
    this.progress = db.prepare(`UPDATE ingest_runs SET rows_read = ?, rows_accepted = ?, rows_quarantined = ? WHERE id = '${runId}'`);
    this.params = new Array(k * width);
    this.one = new Array(width);
    this.tx = db.transaction((b: RowBatch) => {
      this.texts.forEach((t, c) => t?.receive(b.texts[c]!));
      const n = b.rows;
      let r = 0;
      for (; r + k <= n; r += k) {
        for (let i = 0; i < k; i++) this.fill(this.params, i * this.width, b, r + i);
        this.multi.run(this.params);
      }
      for (; r < n; r++) {
        this.fill(this.one, 0, b, r);
        this.single.run(this.one);
      }
      for (const entry of b.quarantine) this.quarantine.run(entry);
      this.progress.run(b.rowsRead, b.rowsAccepted, b.rowsQuarantined);
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
  return new Promise<ReadSummary>((resolvePromise, reject) => {
    const worker = startWorker(import.meta.url, 'csv-reader-worker', {
      workerData: { ...start, inFlight: READER_IN_FLIGHT } satisfies CsvReaderStart,
      resourceLimits: readerHeapLimits(start.config.config.pipeline.ingest.maxRecordBytes),
    });
    let settled = false;
    const settle = (e: unknown, summary?: ReadSummary) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      if (summary) resolvePromise(summary);
      else reject(e);
    };
    const onAbort = () => settle(ingestCancelled());
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort);
    worker.on('message', (m: CsvReaderMessage) => {
      if (settled) return;
      if (m.type === 'batch') {
        try {
          onBatch(m.batch);
        } catch (e) {
          settle(e);
          return;
        }
        worker.postMessage({ type: 'taken' } satisfies CsvReaderCommand);
      } else if (m.type === 'end') settle(null, m.summary);
      else settle(deserializeError(m.error));
    });
    worker.on('error', (e) => settle(new AppraiseError('INTERNAL', `ingest reader thread failed: ${e.message}`, { cause: e })));
    worker.on('exit', () => settle(new AppraiseError('INTERNAL', 'ingest reader thread exited before finishing')));
  });
}

function statSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0; // the reader reports a missing or unreadable file with its own message
  }
}

function finishRun(db: Database.Database, runId: string, status: 'completed' | 'failed', datasetId: string | null, error: string | null): void {
  db.prepare(`UPDATE ingest_runs SET status = ?, dataset_id = ?, error = ?, finished_at = ? WHERE id = ?`).run(status, datasetId, error, new Date().toISOString(), runId);
}

/** Removes every trace of a run that did not complete: its staging table, quarantine and record. */
export function abandonRun(db: Database.Database, runId: string, staging: string): void {
  db.transaction(() => {
    db.exec(`DROP TABLE IF EXISTS ${staging}`);
    db.prepare('DELETE FROM quarantine WHERE run_id = ?').run(runId);
    db.prepare('DELETE FROM ingest_runs WHERE id = ?').run(runId);
  })();
}

/**
 * Cleans up ingests whose process died (kill -9, power loss): their staging tables are dropped, so no half
 * dataset is ever visible. Runs of live processes (another CLI, the app) are left alone.
 */
export function recoverInterruptedIngests(db: Database.Database): number {
  const runs = db.prepare(`SELECT id, pid, staging_table FROM ingest_runs WHERE status = 'running'`).all() as { id: string; pid: number; staging_table: string }[];
  let n = 0;
  for (const r of runs) {
    if (r.pid === process.pid || processAlive(r.pid)) continue;
    abandonRun(db, r.id, r.staging_table);
    n++;
  }
  return n;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function topReasons(db: Database.Database, runId: string): string {
  const rows = db.prepare('SELECT line, reasons_json FROM quarantine WHERE run_id = ? ORDER BY line LIMIT 5').all(runId) as { line: number; reasons_json: string }[];
  return rows.map((r) => `  line ${r.line}: ${(JSON.parse(r.reasons_json) as string[]).join('; ')}`).join('\n');
}
