import type { SerializedError } from '../common/errors.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { ColumnQuality } from '../quality/column-profiler.js';
import type { ProblemCounts, SchemaColumn } from '../schema/row-validator.js';

/**
 * One transaction's worth of parsed rows, handed from the CSV reader (possibly in its own thread) to the writer.
 *
 * Column by column, so that the bulk of it — every numeric column, the row indices and fingerprints — is typed
 * arrays whose buffers move between threads without copying; only text columns are cloned. A missing number is
 * NaN (no valid value can be NaN: the parsers refuse it).
 */
export interface RowBatch {
  /** Valid rows in this batch. */
  rows: number;
  /** Each row's 0-based index among the file's data records (quarantined ones count too). */
  rowIndex: Float64Array;
  /** Each row's 53-bit fingerprint of its normalized values, for duplicate counting. */
  fingerprints: Float64Array;
  /** Per schema column: its values when the column is stored as a number, else null. */
  numbers: (Float64Array | null)[];
  /** Per schema column: its values when the column is stored as text, else null. */
  texts: ((string | null)[] | null)[];
  /** Rows refused since the previous batch: [source line, raw text, JSON list of reasons]. */
  quarantine: QuarantineEntry[];
  /** Running totals at the end of this batch. */
  rowsRead: number;
  rowsAccepted: number;
  rowsQuarantined: number;
  bytesRead: number;
  totalBytes: number;
}

export type QuarantineEntry = [line: number, raw: string, reasonsJson: string];

/** What the reader knows once the whole file is read. */
export interface ReadSummary {
  rowsRead: number;
  rowsAccepted: number;
  rowsQuarantined: number;
  /** sha256 (hex) over the config hash and every valid row's normalized values, in file order: the dataset id. */
  contentHash: string;
  problemCounts: ProblemCounts;
  /** Each column's profile over the valid rows. */
  columns: ColumnQuality[];
}

/** True when a column's normalized values are numbers (they travel in a Float64Array). */
export function isNumberColumn(c: SchemaColumn): boolean {
  return c.sqlType !== 'TEXT';
}

export function emptyBatch(columns: SchemaColumn[], capacity: number): RowBatch {
  return {
    rows: 0,
    rowIndex: new Float64Array(capacity),
    fingerprints: new Float64Array(capacity),
    numbers: columns.map((c) => (isNumberColumn(c) ? new Float64Array(capacity) : null)),
    texts: columns.map((c) => (isNumberColumn(c) ? null : new Array<string | null>(capacity))),
    quarantine: [],
    rowsRead: 0,
    rowsAccepted: 0,
    rowsQuarantined: 0,
    bytesRead: 0,
    totalBytes: 0,
  };
}

/** The buffers of a batch that can be moved to another thread instead of copied. */
export function transferList(b: RowBatch): ArrayBuffer[] {
  const list = [b.rowIndex.buffer, b.fingerprints.buffer] as ArrayBuffer[];
  for (const n of b.numbers) if (n) list.push(n.buffer as ArrayBuffer);
  return list;
}

/** Starts the reader thread (`csv-reader-worker.ts`). */
export interface CsvReaderStart {
  file: string;
  config: LoadedConfig;
  /** Batches the reader may have handed over and not yet seen taken: bounds the memory between the threads. */
  inFlight: number;
}

/** Messages from the reader thread. */
export type CsvReaderMessage =
  | { type: 'batch'; batch: RowBatch }
  | { type: 'end'; summary: ReadSummary }
  | { type: 'failed'; error: SerializedError };

/** The writer took a batch: the reader may hand over one more. */
export type CsvReaderCommand = { type: 'taken' };
