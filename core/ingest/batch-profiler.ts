import { createProfiler, type ColumnProfiler, type ColumnQuality } from '../quality/column-profiler.js';
import type { SchemaColumn } from '../schema/row-validator.js';
import type { RowBatch, TextColumn } from './row-batch.js';

/** Either side of a text column's dictionary (the reader's encoder or the writer's decoder). */
export interface TextColumnLookup {
  get(col: TextColumn, r: number): string | null;
  /** The column's dictionary so far: code k is `entries[k]`. */
  readonly entries: readonly string[];
}

/**
 * The column profiles of an ingest, fed batch by batch in file order. It runs on whichever thread has the time:
 * the ingest profiles on the writing thread (`ingest-csv.ts`), which waits for the reader about a third of the
 * time, rather than on the reading thread, which is the bottleneck (profiling was ~12 % of its work, measured).
 * The values and their order are the same on both sides, so the profiles are too.
 */
export class BatchProfiler {
  private readonly profilers: ColumnProfiler[];
  /** Per text column, scratch counts of a batch's dictionary codes. */
  private readonly codeCounts: Int32Array[];

  constructor(columns: SchemaColumn[]) {
    // Seeds by column position, as they always were: the reservoir samples (and so the quantiles) stay the same.
    this.profilers = columns.map((c, i) => createProfiler(c, i + 1));
    this.codeCounts = columns.map(() => new Int32Array(0));
  }

  /** Adds a batch's values, column by column (one profiler's loop at a time stays monomorphic). */
  add(b: RowBatch, texts: (TextColumnLookup | null)[]): void {
    for (let c = 0; c < this.profilers.length; c++) {
      const p = this.profilers[c];
      const numbers = b.numbers[c];
      if (numbers) p.addNumbers(numbers, b.rows);
      else this.addText(c, b.texts[c]!, texts[c]!.entries, b.rows);
    }
  }

  /**
   * A text column's batch by its codes: each dictionary value once with its count, not a string-keyed map
   * update per cell (that was ~2/3 of the profiling, measured). Same profile as value by value: dictionary codes
   * are given in order of first appearance and all of them before a column's first literal, so the profiler
   * still sees the values first appear in file order (which its distinct-value cap depends on).
   */
  private addText(c: number, col: TextColumn, entries: readonly string[], rows: number): void {
    const p = this.profilers[c];
    if (this.codeCounts[c].length < entries.length) this.codeCounts[c] = new Int32Array(Math.max(64, entries.length * 2));
    const counts = this.codeCounts[c];
    const codes = col.codes;
    let missing = 0;
    let literals = 0;
    for (let r = 0; r < rows; r++) {
      const code = codes[r];
      if (code >= 0) counts[code]++;
      else if (code === -1) missing++;
      else literals++;
    }
    for (let k = 0; k < entries.length; k++) {
      if (counts[k] === 0) continue;
      p.addRepeated(entries[k], counts[k]);
      counts[k] = 0;
    }
    p.addRepeated(null, missing);
    if (literals === 0) return;
    for (let r = 0; r < rows; r++) {
      const code = codes[r];
      if (code <= -2) p.add(col.literals[-2 - code]);
    }
  }

  results(): ColumnQuality[] {
    return this.profilers.map((p) => p.result());
  }
}
