/**
 * Seeded generator of valid, realistic-looking tree ensembles and feature rows, for exporter parity tests and the
 * scoring benchmark (so neither depends on the learner or on downloaded models). Not for production use.
 */
import type { FeatureKind, SerializedTree, TreeEnsemble } from '../learner/tree-model.js';

export interface SyntheticEnsembleOptions {
  seed: number;
  nTrees: number;
  maxDepth: number;
  nFeatures: number;
  /** Number of levels of each categorical feature, by feature index (others are numeric). */
  categorical?: Record<number, number>;
  /** Default 12.5 (a log price). */
  baseScore?: number;
  /** Probability that a branch stops early (becomes a leaf) before maxDepth. Default 0.15. */
  earlyLeaf?: number;
  /** Relative chance of each feature being split on (default uniform), e.g. to make a zipcode-like feature dominant. */
  splitWeights?: number[];
}

/** mulberry32: small, fast, good enough for test data. Returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** The numeric features are ~N(0, 2), so thresholds are drawn from the same range (rounded to float32). */
export function syntheticEnsemble(opts: SyntheticEnsembleOptions): TreeEnsemble {
  const rand = seededRandom(opts.seed);
  const categorical = opts.categorical ?? {};
  const featureKinds: FeatureKind[] = [];
  const categoryCounts: number[] = [];
  for (let f = 0; f < opts.nFeatures; f++) {
    const k = categorical[f];
    featureKinds.push(k ? 'categorical' : 'numeric');
    categoryCounts.push(k ?? 0);
  }
  const earlyLeaf = opts.earlyLeaf ?? 0.15;
  const weights = opts.splitWeights ?? new Array<number>(opts.nFeatures).fill(1);
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const pickFeature = (): number => {
    let u = rand() * totalWeight;
    for (let f = 0; f < opts.nFeatures; f++) {
      u -= weights[f];
      if (u < 0) return f;
    }
    return opts.nFeatures - 1;
  };
  const trees: SerializedTree[] = [];
  for (let ti = 0; ti < opts.nTrees; ti++) {
    const t: SerializedTree = { feature: [], threshold: [], categories: [], defaultLeft: [], left: [], right: [], value: [], cover: [] };
    const add = (): number => {
      t.feature.push(-1);
      t.threshold.push(0);
      t.categories.push(null);
      t.defaultLeft.push(0);
      t.left.push(-1);
      t.right.push(-1);
      t.value.push(0);
      t.cover.push(0);
      return t.feature.length - 1;
    };
    // Breadth-first like a histogram learner: children are appended after their parent.
    const queue: [number, number, number][] = [[add(), 0, 1000]];
    while (queue.length > 0) {
      const [i, depth, cover] = queue.shift()!;
      t.cover[i] = cover;
      const stop = depth >= opts.maxDepth || (depth > 0 && rand() < earlyLeaf);
      if (stop) {
        // Shrunk leaf values like a learning rate of ~0.05 on log price residuals.
        t.value[i] = 0.02 * gaussian(rand);
        continue;
      }
      const f = opts.splitWeights ? pickFeature() : Math.floor(rand() * opts.nFeatures);
      t.feature[i] = f;
      t.defaultLeft[i] = rand() < 0.5 ? 1 : 0;
      const levels = categoryCounts[f];
      if (levels > 0) {
        const cats: number[] = [];
        for (let c = 0; c < levels; c++) if (rand() < 0.35) cats.push(c);
        if (cats.length === 0) cats.push(Math.floor(rand() * levels));
        t.categories[i] = cats;
      } else {
        t.threshold[i] = Math.fround(2 * gaussian(rand));
      }
      const share = 0.2 + 0.6 * rand();
      const l = add();
      const r = add();
      t.left[i] = l;
      t.right[i] = r;
      queue.push([l, depth + 1, cover * share], [r, depth + 1, cover * (1 - share)]);
    }
    trees.push(t);
  }
  return {
    format: 'appraise-gbdt/1',
    baseScore: opts.baseScore ?? 12.5,
    featureNames: Array.from({ length: opts.nFeatures }, (_, f) => (categoryCounts[f] ? `cat_${f}` : `num_${f}`)),
    featureKinds,
    categoryCounts,
    trees,
  };
}

/**
 * Rows for `model` as one row-major float32 matrix: numeric ~N(0, 2) with some values placed exactly on split
 * thresholds (the `<=` boundary), category codes in range plus an occasional unseen code, and `missingRate` NaNs.
 */
export function syntheticRows(model: TreeEnsemble, nRows: number, seed: number, missingRate = 0.05): Float32Array {
  const rand = seededRandom(seed);
  const nF = model.featureNames.length;
  const thresholds: number[][] = Array.from({ length: nF }, () => []);
  for (const t of model.trees.slice(0, 50)) {
    t.feature.forEach((f, i) => {
      if (f >= 0 && !t.categories[i]) thresholds[f].push(t.threshold[i]);
    });
  }
  const X = new Float32Array(nRows * nF);
  for (let r = 0; r < nRows; r++) {
    for (let f = 0; f < nF; f++) {
      let x: number;
      const levels = model.categoryCounts[f];
      if (rand() < missingRate) x = Number.NaN;
      else if (levels > 0) x = rand() < 0.02 ? levels : Math.floor(rand() * levels);
      else if (thresholds[f].length > 0 && rand() < 0.1) x = thresholds[f][Math.floor(rand() * thresholds[f].length)];
      else x = 2 * gaussian(rand);
      X[r * nF + f] = x;
    }
  }
  return X;
}
