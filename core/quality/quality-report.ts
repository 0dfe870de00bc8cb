import type { ColumnQuality, QualityReport } from './quality-schemas.js';

export type { QualityReport };
import type { ProblemCounts } from '../schema/row-validator.js';

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
