import type { TrainingData } from './training-data.js';
import type { FeatureKind } from './tree-model.js';
import { SeededRandom } from '../common/seeded-random.js';

/**
 * A seeded synthetic regression table shaped unlike King County, for tests and for checking that learner defaults
 * are not tuned to one dataset: Friedman #1 on five numeric features, a 12-level categorical whose effect is a
 * planted set, a noise feature, 10 % missing values in x0 (missing means "high"), and Gaussian noise.
 *   y = 10 sin(π x0 x1) + 20 (x2 − 0.5)² + 10 x3 + 5 x4 + 3·[cat ∈ {1, 4, 7, 10}] + noise
 */
export function friedmanTable(nRows: number, seed: number, noise = 1): TrainingData & { truth: Float64Array } {
  const rng = new SeededRandom(seed);
  const nFeatures = 7;
  const X = new Float32Array(nRows * nFeatures);
  const y = new Float64Array(nRows);
  const truth = new Float64Array(nRows);
  const planted = new Set([1, 4, 7, 10]);
  for (let i = 0; i < nRows; i++) {
    const x = Array.from({ length: 5 }, () => rng.next());
    const cat = rng.int(12);
    const missing = rng.next() < 0.1;
    const x0 = missing ? 0.9 : x[0];
    const f = 10 * Math.sin(Math.PI * x0 * x[1]) + 20 * (x[2] - 0.5) ** 2 + 10 * x[3] + 5 * x[4] + (planted.has(cat) ? 3 : 0);
    truth[i] = f;
    // Box–Muller noise.
    const g = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    y[i] = f + noise * g;
    const row = i * nFeatures;
    X[row] = missing ? NaN : x[0];
    for (let j = 1; j < 5; j++) X[row + j] = x[j];
    X[row + 5] = cat;
    X[row + 6] = rng.next();
  }
  const featureKinds: FeatureKind[] = ['numeric', 'numeric', 'numeric', 'numeric', 'numeric', 'categorical', 'numeric'];
  return {
    nRows,
    nFeatures,
    X,
    y,
    truth,
    featureNames: ['x0', 'x1', 'x2', 'x3', 'x4', 'cat', 'noise'],
    featureKinds,
    categoryCounts: [0, 0, 0, 0, 0, 12, 0],
  };
}
