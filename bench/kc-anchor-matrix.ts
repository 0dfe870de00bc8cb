/**
 * A deliberately tiny loader for the King County anchor setup (shared/anchors/README.md "Setup"), so learner benches
 * can run before the product's ingest and feature pipeline exists; that pipeline will replace it.
 * Target ln(price); every column but id and price; date M/D/YYYY → days since 2014-01-01; zipcode categorical
 * (codes in sorted zipcode order); empty or "?" = missing.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { selectRows, type TrainingData } from '../core/learner/data/training-data.js';
import type { FeatureKind } from '../core/learner/model/tree-model.js';

const repoRoot = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../' : '../', import.meta.url));
export const KC_DATA_PATH = `${repoRoot}../shared/data/kc_house_sales.csv`;
export const KC_FOLDS_PATH = `${repoRoot}../shared/anchors/folds_kc.csv`;

export interface KcAnchorTable extends TrainingData {
  /** Fold 0..4 of each row (anchors/folds_kc.csv). */
  fold: Int32Array;
}

export function loadKcAnchorTable(dataPath = KC_DATA_PATH, foldsPath = KC_FOLDS_PATH): KcAnchorTable {
  const records = parse(readFileSync(dataPath, 'utf8'), { columns: false, skip_empty_lines: true }) as string[][];
  const header = records[0];
  const rows = records.slice(1);
  const featureCols = header.map((h, i) => [h, i] as const).filter(([h]) => h !== 'id' && h !== 'price');
  const priceCol = header.indexOf('price');
  const zipCol = header.indexOf('zipcode');
  const dateCol = header.indexOf('date');
  const zips = [...new Set(rows.map((r) => r[zipCol]).filter((z) => z !== '' && z !== '?'))].sort();
  const zipCode = new Map(zips.map((z, i) => [z, i]));
  const nRows = rows.length;
  const nFeatures = featureCols.length;
  const X = new Float32Array(nRows * nFeatures);
  const y = new Float64Array(nRows);
  const epoch = Date.UTC(2014, 0, 1);
  rows.forEach((r, i) => {
    y[i] = Math.log(Number(r[priceCol]));
    featureCols.forEach(([, c], f) => {
      const s = r[c];
      let v: number;
      if (s === '' || s === '?') v = NaN;
      else if (c === zipCol) v = zipCode.get(s)!;
      else if (c === dateCol) {
        const [m, d, yr] = s.split('/').map(Number);
        v = (Date.UTC(yr, m - 1, d) - epoch) / 86_400_000;
      } else v = Number(s);
      X[i * nFeatures + f] = v;
    });
  });
  const fold = new Int32Array(nRows).fill(-1);
  const foldRows = parse(readFileSync(foldsPath, 'utf8'), { columns: true, skip_empty_lines: true }) as { row: string; fold: string }[];
  for (const fr of foldRows) fold[Number(fr.row)] = Number(fr.fold);
  const featureKinds: FeatureKind[] = featureCols.map(([, c]) => (c === zipCol ? 'categorical' : 'numeric'));
  return {
    nRows,
    nFeatures,
    X,
    y,
    featureNames: featureCols.map(([h]) => h),
    featureKinds,
    categoryCounts: featureCols.map(([, c]) => (c === zipCol ? zips.length : 0)),
    fold,
  };
}

/** Rows of `t` where `pick(fold)` holds, as a training table. */
export function kcFoldRows(t: KcAnchorTable, pick: (fold: number) => boolean): { data: TrainingData; rows: Int32Array } {
  const rows = Int32Array.from(Array.from(t.fold.keys()).filter((i) => pick(t.fold[i])));
  const { nRows, nFeatures, X, y, featureNames, featureKinds, categoryCounts } = t;
  return { data: selectRows({ nRows, nFeatures, X, y, featureNames, featureKinds, categoryCounts }, rows), rows };
}
