import type { ColumnQuality } from './column-profiler.js';
import type { ProblemCounts } from '../schema/row-validator.js';

/** The data quality report stored with every dataset version and shown by `appraise quality`. */
export interface QualityReport {
  rowsRead: number;
  rowsAccepted: number;
  rowsQuarantined: number;
  /** Accepted rows that repeat another accepted row exactly (all columns). */
  duplicateRows: number | null;
  columns: ColumnQuality[];
  /** Why rows were quarantined, per column and kind (`required`, `type`, `range`, `level`, `text`, `ragged`). */
  problems: ProblemCounts;
  /** Values outside the configured range, per column (those rows are quarantined). */
  outOfRange: Record<string, number>;
}

export function buildQualityReport(input: {
  columns: ColumnQuality[];
  rowsRead: number;
  rowsAccepted: number;
  rowsQuarantined: number;
  problemCounts: ProblemCounts;
}): QualityReport {
  const outOfRange: Record<string, number> = {};
  for (const c of input.columns) outOfRange[c.name] = input.problemCounts[c.name]?.range ?? 0;
  return {
    rowsRead: input.rowsRead,
    rowsAccepted: input.rowsAccepted,
    rowsQuarantined: input.rowsQuarantined,
    duplicateRows: null,
    columns: input.columns,
    problems: input.problemCounts,
    outOfRange,
  };
}
