import { describe, expect, it } from 'vitest';
import { LabelFreeAccumulator } from './label-free-estimate.js';
import type { ModelManifest } from '../models/model-schemas.js';
import type { TreeEnsemble } from '../learner/model/tree-model.js';
import { SeededRandom } from '../common/seeded-random.js';

/** One stump on feature 0: rows with x <= t predict `low`, others `high`. */
function stump(t: number, low: number, high: number): TreeEnsemble {
  return {
    format: 'appraise-gbdt/1',
    baseScore: 0,
    featureNames: ['x', 'y'],
    featureKinds: ['numeric', 'numeric'],
    categoryCounts: [0, 0],
    trees: [
      {
        feature: [0, -1, -1],
        threshold: [t, 0, 0],
        categories: [null, null, null],
        defaultLeft: [1, 0, 0],
        left: [1, -1, -1],
        right: [2, -1, -1],
        value: [0, low, high],
        cover: [1, 1, 1],
      },
    ],
  };
}

const manifest = {
  featureTransform: { features: [{}, {}], target: { transform: 'log' } },
  lossEstimator: {
    format: 'appraise-dle/1',
    absError: stump(0.5, 0.05, 0.2),
    squaredError: stump(0.5, 0.004, 0.06),
    reference: { n: 1000, rmseLog: 0.15, meanAbsLog: 0.1, mdape: 0.08, sdSquared: 0.03, sdAbs: 0.08, meanPredictedSquared: 0.02, meanPredictedAbs: 0.1 },
  },
} as unknown as ModelManifest;

/** Rows whose share of "hard" valuations (x > 0.5) changes over the log, by window: a sample must follow it. */
function fill(acc: LabelFreeAccumulator<string>, n: number): void {
  const random = new SeededRandom(20261203);
  const rnd = () => random.next();
  const f = new Float32Array(2);
  for (let i = 0; i < n; i++) {
    const window = i < n / 2 ? 'early' : 'late';
    f[0] = rnd() < (window === 'early' ? 0.2 : 0.6) ? 0.9 : 0.1;
    f[1] = rnd();
    acc.add(f, window);
  }
}

describe('label-free estimate on a large log', () => {
  it('samples past the full rows and stays within a fraction of its band of the estimate over every row, per window too', () => {
    const n = 60_000;
    const full = new LabelFreeAccumulator<string>(manifest, Infinity);
    const sampled = new LabelFreeAccumulator<string>(manifest, 5_000);
    fill(full, n);
    fill(sampled, n);
    const a = full.finish({ estimate: [], price: [] }, null).estimated!;
    const b = sampled.finish({ estimate: [], price: [] }, null).estimated!;
    expect(sampled.n).toBe(n);
    // The early half is easier than the late: a sample that ignored the order would get the windows wrong.
    for (const w of ['early', 'late']) {
      const fw = full.perKey.get(w)!;
      const sw = sampled.perKey.get(w)!;
      expect(sw.n).toBe(fw.n);
      expect(Math.abs(sw.sumSq / sw.n - fw.sumSq / fw.n) / (fw.sumSq / fw.n)).toBeLessThan(0.03);
    }
    expect(full.perKey.get('late')!.sumSq / full.perKey.get('late')!.n).toBeGreaterThan((2 * full.perKey.get('early')!.sumSq) / full.perKey.get('early')!.n);
    expect(Math.abs(b.rmseLog - a.rmseLog)).toBeLessThan(0.25 * (a.rmseHigh - a.rmseLow));
    expect(Math.abs(b.mdape - a.mdape) / a.mdape).toBeLessThan(0.02);
    // Below the full rows nothing is sampled: the two agree exactly.
    const small = new LabelFreeAccumulator<string>(manifest, 5_000);
    const smallFull = new LabelFreeAccumulator<string>(manifest, Infinity);
    fill(small, 4_000);
    fill(smallFull, 4_000);
    expect(small.finish({ estimate: [], price: [] }, null)).toEqual(smallFull.finish({ estimate: [], price: [] }, null));
  });
});
