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
  texts: (TextColumn | null)[];
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
  /** Valid rows equal to an earlier valid row, by fingerprint. */
  duplicateRows: number;
  /** Each column's profile over the valid rows; empty when the reader was told not to profile. */
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
    texts: columns.map((c) => (isNumberColumn(c) ? null : { codes: new Int32Array(capacity), literals: [], added: [] })),
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
  for (const t of b.texts) if (t) list.push(t.codes.buffer as ArrayBuffer);
  return list;
}

/**
 * A text column of a batch. Repeated values (dates, categories, levels) travel as codes into a dictionary that
 * each side builds once per ingest, not as one string per row: cloning and re-creating those strings on each
 * side was a tenth of the ingest's work (measured).
 */
export interface TextColumn {
  /** Per row: ≥ 0 an entry of the column's dictionary; -1 missing; ≤ -2 `literals[-2 - code]`. */
  codes: Int32Array;
  literals: string[];
  /** Entries added to the column's dictionary with this batch (it only grows; codes are positions in it). */
  added: string[];
}

/** The reading side's half of a text column's dictionary. */
export class TextColumnEncoder {
  /** Entries beyond this many are sent as literals: the dictionary stays small whatever the column holds. */
  private static readonly CAP = 4096;
  private readonly codes = new Map<string, number>();
  readonly entries: string[] = [];
  private sent = 0;

  /** `dictionary: false` for columns whose values rarely repeat (identifiers): they always go as literals. */
  constructor(private readonly dictionary: boolean) {}

  set(col: TextColumn, r: number, v: string | null): void {
    if (v === null) {
      col.codes[r] = -1;
      return;
    }
    if (this.dictionary) {
      let code = this.codes.get(v);
      if (code === undefined && this.entries.length < TextColumnEncoder.CAP) {
        code = this.entries.length;
        this.codes.set(v, code);
        this.entries.push(v);
      }
      if (code !== undefined) {
        col.codes[r] = code;
        return;
      }
    }
    col.codes[r] = -2 - col.literals.length;
    col.literals.push(v);
  }

  /** Row `r`'s value, as `set` encoded it. */
  get(col: TextColumn, r: number): string | null {
    const code = col.codes[r];
    return code >= 0 ? this.entries[code] : code === -1 ? null : col.literals[-2 - code];
  }

  /** Attaches the entries added since the previous batch to `col`, the column of the batch being handed over. */
  seal(col: TextColumn): void {
    col.added = this.entries.slice(this.sent);
    this.sent = this.entries.length;
  }
}

/** The writing side's half: rebuilds the dictionary from the batches, in order. */
export class TextColumnDecoder {
  readonly entries: string[] = [];

  /** Takes the batch's new dictionary entries; call once per batch, in batch order, before `get`. */
  receive(col: TextColumn): void {
    for (const e of col.added) this.entries.push(e);
  }

  get(col: TextColumn, r: number): string | null {
    const code = col.codes[r];
    return code >= 0 ? this.entries[code] : code === -1 ? null : col.literals[-2 - code];
  }
}

/** Starts the reader thread (`csv-reader-worker.ts`). */
export interface CsvReaderStart {
  file: string;
  config: LoadedConfig;
  /** Batches the reader may have handed over and not yet seen taken: bounds the memory between the threads. */
  inFlight: number;
  /** Whether the reader profiles the columns (see `CsvRowReaderOptions.profile`). */
  profile: boolean;
}
