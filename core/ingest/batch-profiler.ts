import { createProfiler, type ColumnProfiler, type ColumnQuality } from '../quality/column-profiler.js';
import type { SchemaColumn } from '../schema/row-validator.js';
import type { RowBatch, TextColumn } from './row-batch.js';

/** Either side of a text column's dictionary (the reader's encoder or the writer's decoder). */
export interface TextColumnLookup {
  get(col: TextColumn, r: number): string | null;
}

/**
 * The column profiles of an ingest, fed batch by batch in file order. It runs on whichever thread has the time:
 * the ingest profiles on the writing thread (`ingest-csv.ts`), which waits for the reader about a third of the
 * time, rather than on the reading thread, which is the bottleneck (profiling was ~12 % of its work, measured).
 * The values and their order are the same on both sides, so the profiles are too.
 */
export class BatchProfiler {
  private readonly profilers: ColumnProfiler[];

  constructor(columns: SchemaColumn[]) {
    // Seeds by column position, as they always were: the reservoir samples (and so the quantiles) stay the same.
    this.profilers = columns.map((c, i) => createProfiler(c, i + 1));
  }

  /** Adds a batch's values, column by column (one profiler's loop at a time stays monomorphic). */
  add(b: RowBatch, texts: (TextColumnLookup | null)[]): void {
    for (let c = 0; c < this.profilers.length; c++) {
      const p = this.profilers[c];
      const numbers = b.numbers[c];
      if (numbers) p.addNumbers(numbers, b.rows);
      else {
        const col = b.texts[c]!;
        const lookup = texts[c]!;
        for (let r = 0; r < b.rows; r++) p.add(lookup.get(col, r));
      }
    }
  }

  results(): ColumnQuality[] {
    return this.profilers.map((p) => p.result());
  }
}
