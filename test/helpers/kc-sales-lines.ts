import { readFileSync } from 'node:fs';
import { kcCsv } from './temp-workspace.js';

/** The King County sales file as raw lines, for tests that build feeds by date: header, column lookup, dates. */
export function kcSalesLines(): { lines: string[]; header: string[]; col: (name: string) => number; isoOf: (mdy: string) => string } {
  const lines = readFileSync(kcCsv, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l);
  const header = lines[0].split(',');
  return {
    lines,
    header,
    col: (name) => header.indexOf(name),
    // The file's M/D/YYYY sale dates as ISO, so they compare as strings.
    isoOf: (mdy) => {
      const [m, d, y] = mdy.split('/').map(Number);
      return `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
    },
  };
}
