import type { FeatureKind } from '../model/tree-model.js';
import { invalidInput } from '../../common/errors.js';

/**
 * A training table as the learner receives it: already numeric, row-major float32, NaN = missing.
 * Categorical features hold integer codes 0..categoryCounts[f]-1 stored as floats.
 */
export interface TrainingData {
  nRows: number;
  nFeatures: number;
  /** Row-major, length nRows × nFeatures. */
  X: Float32Array;
  /** Target in transformed space (the pipeline passes log(price)). */
  y: Float64Array;
  featureNames: string[];
  featureKinds: FeatureKind[];
  /** Category codes per categorical feature; 0 for numeric features. */
  categoryCounts: number[];
  /** Optional non-negative row weights (default 1). */
  weights?: Float64Array;
}

/** Checks shapes and values once at the learner's edge; everything inside trusts the types. */
export function validateTrainingData(d: TrainingData, what = 'training data'): void {
  const { nRows, nFeatures } = d;
  if (!Number.isInteger(nRows) || nRows < 1) throw invalidInput(`${what}: nRows must be a positive integer`);
  if (!Number.isInteger(nFeatures) || nFeatures < 1) throw invalidInput(`${what}: nFeatures must be a positive integer`);
  if (d.X.length !== nRows * nFeatures) throw invalidInput(`${what}: X has ${d.X.length} values, expected nRows × nFeatures = ${nRows * nFeatures}`);
  if (d.y.length !== nRows) throw invalidInput(`${what}: y has ${d.y.length} values, expected ${nRows}`);
  if (d.featureNames.length !== nFeatures || d.featureKinds.length !== nFeatures || d.categoryCounts.length !== nFeatures) {
    throw invalidInput(`${what}: featureNames, featureKinds and categoryCounts must each have nFeatures entries`);
  }
  for (let i = 0; i < nRows; i++) {
    if (!Number.isFinite(d.y[i])) throw invalidInput(`${what}: target is not a finite number in row ${i}`, { row: i });
  }
  if (d.weights) {
    if (d.weights.length !== nRows) throw invalidInput(`${what}: weights has ${d.weights.length} values, expected ${nRows}`);
    for (let i = 0; i < nRows; i++) {
      if (!(d.weights[i] >= 0) || !Number.isFinite(d.weights[i])) throw invalidInput(`${what}: weight must be finite and >= 0 (row ${i})`, { row: i });
    }
  }
  for (let f = 0; f < nFeatures; f++) {
    if (d.featureKinds[f] !== 'categorical') continue;
    const n = d.categoryCounts[f];
    if (!Number.isInteger(n) || n < 1) throw invalidInput(`${what}: categorical feature ${d.featureNames[f]} needs categoryCounts >= 1`);
    for (let i = 0; i < nRows; i++) {
      const x = d.X[i * nFeatures + f];
      if (Number.isNaN(x)) continue;
      if (!Number.isInteger(x) || x < 0 || x >= n) {
        throw invalidInput(`${what}: feature ${d.featureNames[f]} has category code ${x} in row ${i}; codes must be integers 0..${n - 1}`, { row: i, feature: d.featureNames[f] });
      }
    }
  }
}

/** Rows `rows` of `d` as a new table (used for the internal validation split). */
export function selectRows(d: TrainingData, rows: Int32Array): TrainingData {
  const nF = d.nFeatures;
  const X = new Float32Array(rows.length * nF);
  const y = new Float64Array(rows.length);
  const w = d.weights ? new Float64Array(rows.length) : undefined;
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k];
    X.set(d.X.subarray(r * nF, r * nF + nF), k * nF);
    y[k] = d.y[r];
    if (w && d.weights) w[k] = d.weights[r];
  }
  return { ...d, nRows: rows.length, X, y, weights: w };
}
