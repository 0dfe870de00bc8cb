import type { CoverageCell } from '../../core/models/model-schemas.js';
import { printTable } from '../output.js';

/**
 * The per-property intervals' coverage as `appraise train` and `models show` print it: overall, per confidence
 * tier and per price decile, on out-of-fold sales that set neither the difficulty model nor the quantiles.
 */
export function printCoverage(c: {
  overall: CoverageCell;
  byTier: CoverageCell[];
  byPriceDecile: CoverageCell[];
  rows: { difficulty: number; calibration: number; evaluation: number };
}): void {
  process.stdout.write(
    `Interval coverage on ${c.rows.evaluation} held-out sales (out of fold; the difficulty model learned from ${c.rows.difficulty} others, the quantiles from ${c.rows.calibration} more):\n`,
  );
  const row = (kind: string, g: CoverageCell) => ({
    group: `${kind}${g.group}`,
    sales: g.n,
    ...Object.fromEntries(g.coverage.map((x) => [`${Math.round(x.level * 100)}% band`, Number.isNaN(x.coverage) ? '-' : `${(x.coverage * 100).toFixed(1)}%`])),
  });
  printTable([row('', c.overall), ...c.byTier.map((g) => row('tier ', g)), ...c.byPriceDecile.map((g) => row('price decile ', g))]);
}
