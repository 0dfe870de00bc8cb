import { readFileSync } from 'node:fs';
import { AppraiseError, invalidInput } from '../common/errors.js';
import { SeededRandom } from '../common/seeded-random.js';

/**
 * Cross-validation folds as one fold number per dataset row (−1 = the row is in no test fold).
 * For time folds, fold k trains only on rows of earlier folds (expanding window), so `trainMask` differs from
 * "every other fold".
 */
export interface FoldPlan {
  scheme: string;
  nFolds: number;
  /** Test fold of each row, or −1. */
  fold: Int32Array;
  /** Rows to train on for test fold k. */
  trainRows(k: number): Int32Array;
  /** Folds that have test rows and training rows. */
  activeFolds: number[];
}

function checkFoldCount(k: number, n: number): void {
  if (!Number.isInteger(k) || k < 2) throw invalidInput(`--folds must be a whole number of at least 2, got ${k}`);
  if (n < k * 2) throw invalidInput(`the dataset has ${n} row(s): too few for ${k}-fold cross-validation (need at least ${k * 2})`);
}

function complementPlan(scheme: string, nFolds: number, fold: Int32Array): FoldPlan {
  const activeFolds = [...new Set(fold)].filter((f) => f >= 0).sort((a, b) => a - b);
  return {
    scheme,
    nFolds,
    fold,
    activeFolds,
    trainRows: (k) => Int32Array.from(fold.keys()).filter((i) => fold[i] !== k && fold[i] !== -2),
  };
}

/** Random k-fold, seeded. */
export function randomFolds(n: number, k: number, seed: number): FoldPlan {
  checkFoldCount(k, n);
  const order = new SeededRandom(seed).shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const fold = new Int32Array(n);
  for (let i = 0; i < n; i++) fold[order[i]] = i % k;
  return complementPlan(`random ${k}-fold (seed ${seed})`, k, fold);
}

/**
 * Time-ordered folds: rows sorted by sale date are cut into k blocks; block j (j ≥ 1) is tested by a model trained
 * on blocks 0..j−1 — later sales are always predicted from earlier ones, as in real use.
 */
export function timeFolds(saleDay: Float64Array, k: number): FoldPlan {
  const n = saleDay.length;
  checkFoldCount(k, n);
  if (saleDay.some((d) => Number.isNaN(d)))
    throw invalidInput('time-ordered folds need a sale date on every row; set features.saleDate in the config, or use random folds');
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => saleDay[a] - saleDay[b] || a - b);
  const block = new Int32Array(n);
  for (let r = 0; r < n; r++) block[order[r]] = Math.min(k - 1, Math.floor((r * k) / n));
  const fold = Int32Array.from(block, (b) => (b === 0 ? -1 : b));
  return {
    scheme: `time-ordered ${k} blocks (expanding window)`,
    nFolds: k,
    fold,
    activeFolds: Array.from({ length: k - 1 }, (_, i) => i + 1),
    trainRows: (j) => Int32Array.from(block.keys()).filter((i) => block[i] < j),
  };
}

/**
 * Folds from a `row,fold` CSV, `row` being the 0-based data row of the source file. File rows with no dataset row
 * (quarantined at ingest) simply match nothing; dataset rows the file does not list are left out of this plan
 * entirely (fold −2), so the folds are exactly the other tool's.
 */
export function foldsFromFile(file: string, rowIndex: Int32Array): FoldPlan {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw invalidInput(`cannot read folds file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0]?.split(',').map((h) => h.trim().toLowerCase());
  if (!header || header[0] !== 'row' || header[1] !== 'fold') throw invalidInput(`${file}: the folds file must start with the header "row,fold"`);
  const byRow = new Map<number, number>();
  for (let i = 1; i < lines.length; i++) {
    const [r, f] = lines[i].split(',').map((x) => Number(x.trim()));
    if (!Number.isInteger(r) || r < 0 || !Number.isInteger(f) || f < 0)
      throw invalidInput(`${file} line ${i + 1}: expected two whole numbers "row,fold", got "${lines[i]}"`);
    if (byRow.has(r)) throw invalidInput(`${file} line ${i + 1}: row ${r} is listed twice`);
    byRow.set(r, f);
  }
  const fold = Int32Array.from(rowIndex, (r) => byRow.get(r) ?? -2);
  const matched = fold.filter((f) => f >= 0).length;
  if (matched === 0) throw new AppraiseError('INVALID_INPUT', `${file}: none of its rows match this dataset's source rows; is it for another file?`);
  const nFolds = Math.max(...fold) + 1;
  return complementPlan(`folds file ${file} (${nFolds} folds, ${matched} of ${rowIndex.length} rows matched)`, nFolds, fold);
}
