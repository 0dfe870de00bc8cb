import { test, expect } from 'vitest';
import * as ort from 'onnxruntime-node';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../core/config/load-config.js';
import { compileFeatureTransform, fitFeatureTransform, MAX_CATEGORIES } from '../core/features/feature-transform.js';
import { trainGbdt } from '../core/learner/boosting/gbdt-trainer.js';
import { predictRaw } from '../core/learner/model/tree-model.js';
import { exportTreeEnsembleToOnnx, type TreeOperator } from '../core/onnx/export-tree-ensemble.js';
import { SeededRandom } from '../core/common/seeded-random.js';

// A categorical of 400 levels (Zipf-like counts, a tail sold once) through the real feature definition: codes
// 0..253 for the kept levels, 254 for "other (rare)", NaN for unseen. A model trained on it must score the same
// in onnxruntime for every one of those codes.

const kc = loadConfigFile(fileURLToPath(new URL('../config/king-county.yaml', import.meta.url))).config;

test.each(['TreeEnsemble', 'TreeEnsembleRegressor'] as TreeOperator[])(
  '%s: onnxruntime scores kept, rare and unknown codes as the trees do',
  async (operator) => {
    const levels = 400;
    const counts = Array.from({ length: levels }, (_, i) => Math.max(1, Math.round(3000 / (i + 1) ** 1.5)));
    const transform = fitFeatureTransform(kc, { zipcode: counts.map((count, i) => ({ value: `z${i}`, count })) });
    expect(transform.rare?.zipcode.levels.length).toBeGreaterThan(levels - MAX_CATEGORIES);
    const compiled = compileFeatureTransform(transform);
    const zip = compiled.names.indexOf('zipcode');
    const rareCode = transform.vocabularies.zipcode.length;

    // Rows: the zipcode code plus one numeric feature; the pooled levels carry a price level of their own.
    const rng = new SeededRandom(5);
    const effect = Array.from({ length: levels }, () => rng.next() - 0.5);
    const nRows = 6000;
    const X = new Float32Array(nRows * 2);
    const y = new Float64Array(nRows);
    for (let i = 0; i < nRows; i++) {
      const level = Math.min(levels - 1, Math.floor(levels * rng.next() ** 3));
      const v = compiled.fromRecord({ zipcode: `z${level}` }).vector[zip];
      X[i * 2] = v;
      X[i * 2 + 1] = rng.next() * 10;
      y[i] = 12 + (v === rareCode ? 0.6 : effect[level]) + 0.05 * X[i * 2 + 1] + 0.05 * (rng.next() - 0.5);
    }
    const data = {
      nRows,
      nFeatures: 2,
      X,
      y,
      featureNames: ['zipcode', 'x'],
      featureKinds: ['categorical', 'numeric'] as ('categorical' | 'numeric')[],
      categoryCounts: [compiled.categoryCounts[zip], 0],
    };
    const { model } = await trainGbdt(data, { nRounds: 60, earlyStoppingRounds: 0, colsampleByTree: 1 }, { threads: 1 });
    // The rare code is used by the trees (it sits in some split's category set).
    expect(model.trees.some((t) => t.categories.some((c) => c?.includes(rareCode)))).toBe(true);

    // Score every code, the rare code and unknown, at a few numeric values.
    const codes = [...Array.from({ length: rareCode + 1 }, (_, c) => c), NaN];
    const Xs = new Float32Array(codes.length * 3 * 2);
    codes.forEach((c, k) => [1, 5, 9].forEach((x, j) => Xs.set([c, x], (k * 3 + j) * 2)));
    const n = codes.length * 3;
    const bytes = exportTreeEnsembleToOnnx(model, { targetTransform: 'log', operator });
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
    try {
      const out = await session.run({ features: new ort.Tensor('float32', Xs, [n, 2]) });
      const raw = out.raw.data as Float32Array;
      let worst = 0;
      for (let r = 0; r < n; r++) worst = Math.max(worst, Math.abs(raw[r] - predictRaw(model, Xs.subarray(r * 2, r * 2 + 2))));
      expect(worst).toBeLessThan(1e-4);
      // Rare and unknown are told apart: the rare code gets its learned level, not the missing branch's.
      const at = (c: number) => predictRaw(model, Float32Array.of(c, 5));
      expect(at(rareCode)).toBeGreaterThan(12.4);
      expect(Math.abs(at(rareCode) - at(NaN))).toBeGreaterThan(0.1);
    } finally {
      await session.release();
    }
  },
);
