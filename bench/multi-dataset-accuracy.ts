/**
 * The tool's own defaults on several regions' data, side by side with scikit-learn and XGBoost on identical folds
 * (issue 9): each dataset goes through the product — `ingest` with its YAML, `train --folds-file` with nothing
 * else — and the baselines get the very matrix the product trained on (same features, codes, missing values),
 * over several seeds of random 5-fold splits. The figure is the CV RMSE of log price and its ratio to the best
 * baseline on that dataset (target ≤ 1.00).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openServices } from '../core/services/open-workspace.js';
import { parseConfig } from '../core/config/load-config.js';
import { fitDatasetTransform, trainingDataOf } from '../core/training/training-service.js';
import { compileFeatureTransform } from '../core/features/feature-transform.js';
import { SeededRandom } from '../core/common/seeded-random.js';
import { fmt, pythonHas, removeDir, runBaseline, writeBaselineMatrix } from './learner-bench-support.js';
import { writeLocationRegion, writeWideCategoricalRegion } from './generated-regions.js';
import { recordFigure } from './bench-results.js';

// Built to dist/bench/ for `npm run bench`; run from bench/ by tsx in a quick check.
const root = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../' : '../', import.meta.url));
const extracted = join(root, 'bench', 'out', 'datasets');

export interface AccuracyDataset {
  name: string;
  csv: string;
  /** A YAML file or its text. */
  config: string;
  source: string;
}

export const BASELINES = [
  { id: 'hgb', label: 'sklearn HGB 1000/0.05', needs: 'sklearn' },
  { id: 'hgb-default', label: 'sklearn HGB defaults', needs: 'sklearn' },
  { id: 'xgb', label: 'XGBoost 1000/d6/0.05', needs: 'xgboost' },
  { id: 'xgb-es', label: 'XGBoost early-stopped', needs: 'xgboost' },
] as const;

/** King County, the Debian-extracted regions that are present, and the two generated shapes. */
export function accuracyDatasets(): { datasets: AccuracyDataset[]; missing: string[] } {
  const datasets: AccuracyDataset[] = [
    { name: 'king-county', csv: join(root, 'data', 'kc_house_sales.csv'), config: join(root, 'config', 'king-county.yaml'), source: 'bundled (CC0)' },
  ];
  const missing: string[] = [];
  for (const name of ['ames', 'sacramento', 'windsor']) {
    const csv = join(extracted, `${name}.csv`);
    if (existsSync(csv))
      datasets.push({ name, csv, config: join(root, 'config', 'datasets', `${name}.yaml`), source: 'Debian R package (scripts/extract-debian-datasets.sh)' });
    else missing.push(name);
  }
  mkdirSync(extracted, { recursive: true });
  for (const g of [
    writeLocationRegion(join(extracted, 'generated-location.csv')),
    writeWideCategoricalRegion(join(extracted, 'generated-wide-categoricals.csv')),
  ])
    datasets.push({ name: g.name, csv: g.csv, config: g.yaml, source: 'generated (bench/generated-regions.ts)' });
  return { datasets, missing };
}

/** Seeded random k-fold assignment of the file's data rows, as a `row,fold` file for `train --folds-file`. */
function writeFolds(file: string, rows: number, k: number, seed: number): Int32Array {
  const rng = new SeededRandom(seed);
  const order = Array.from({ length: rows }, (_, i) => i);
  for (let i = rows - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const fold = new Int32Array(rows);
  order.forEach((r, i) => (fold[r] = i % k));
  writeFileSync(file, 'row,fold\n' + Array.from(fold, (f, r) => `${r},${f}`).join('\n') + '\n');
  return fold;
}

export interface DatasetComparison {
  name: string;
  rows: number;
  features: number;
  ours: number[];
  baselines: Record<string, number[]>;
  seconds: number[];
}

export async function compareOnDataset(d: AccuracyDataset, seeds: number[], withBaselines: boolean, threads?: number): Promise<DatasetComparison> {
  const dir = mkdtempSync(join(tmpdir(), `appraise-acc-${d.name}-`));
  const s = openServices(join(dir, 'ws'));
  try {
    const config = d.config.endsWith('.yaml') ? d.config : parseConfig(d.config, `${d.name}.yaml`);
    const ingested = await s.datasets.ingest({ file: d.csv, config });
    const ds = s.datasets.get(ingested.datasetId);
    const transform = fitDatasetTransform(s.datasetStore, ds);
    const compiled = compileFeatureTransform(transform);
    const m = s.datasetStore.readMatrix(ds, transform, compiled);
    const data = trainingDataOf(m, compiled);
    const out: DatasetComparison = { name: d.name, rows: m.nRows, features: m.nFeatures, ours: [], baselines: {}, seconds: [] };
    for (const seed of seeds) {
      const foldsFile = join(dir, `folds-${seed}.csv`);
      const byFileRow = writeFolds(foldsFile, ingested.rowsRead, 5, seed);
      const t0 = performance.now();
      const r = await s.training.train({ dataset: ds.id, foldsFile, seed, threads });
      out.seconds.push((performance.now() - t0) / 1000);
      out.ours.push(r.cv.rmseLog);
      if (!withBaselines) continue;
      const fold = Int32Array.from(m.rowIndex, (row) => byFileRow[row]);
      const matrixDir = writeBaselineMatrix(data, fold);
      try {
        for (const b of BASELINES) {
          if (!pythonHas(b.needs)) continue;
          (out.baselines[b.id] ??= []).push(runBaseline<{ rmse: number }>(['cv', matrixDir, b.id], 1).rmse);
        }
      } finally {
        removeDir(matrixDir);
      }
    }
    return out;
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/** Prints one dataset's line and records its figures; returns ours / best baseline (NaN without baselines). */
export function reportComparison(c: DatasetComparison): number {
  const ours = mean(c.ours);
  const parts = BASELINES.filter((b) => c.baselines[b.id]).map((b) => `${b.label} ${fmt(mean(c.baselines[b.id]))}`);
  const best = Math.min(...BASELINES.filter((b) => c.baselines[b.id]).map((b) => mean(c.baselines[b.id])));
  const ratio = Number.isFinite(best) ? ours / best : NaN;
  console.log(
    `  ${c.name.padEnd(28)} ${String(c.rows).padStart(6)} rows ${String(c.features).padStart(3)} features  ours ${fmt(ours)} (seeds ${c.ours.map((x) => fmt(x)).join(', ')}; ${fmt(mean(c.seconds), 1)} s per train)` +
      (parts.length
        ? `\n  ${''.padEnd(28)} ${parts.join('  ')}\n  ${''.padEnd(28)} ratio ours / best baseline ${fmt(ratio, 3)}  ${ratio <= 1 ? 'PASS' : 'MISS'}`
        : ''),
  );
  recordFigure({ case: c.name, metric: `CV RMSE log price, tool defaults (mean of ${c.ours.length} seeds)`, value: Number(ours.toFixed(5)), unit: '' });
  for (const b of BASELINES)
    if (c.baselines[b.id]) recordFigure({ case: c.name, metric: `CV RMSE log price, ${b.label}`, value: Number(mean(c.baselines[b.id]).toFixed(5)), unit: '' });
  if (Number.isFinite(ratio))
    recordFigure({ case: c.name, metric: 'ratio ours / best baseline', value: Number(ratio.toFixed(4)), unit: '×', target: '≤ 1.00×', met: ratio <= 1 });
  return ratio;
}
