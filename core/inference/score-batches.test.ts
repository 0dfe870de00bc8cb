import { expect, test } from 'vitest';
import { exportTreeEnsembleToOnnx } from '../onnx/export-tree-ensemble.js';
import { syntheticEnsemble, syntheticRows } from '../../test/fixtures/synthetic-ensemble.js';
import { OnnxInferencePool } from './onnx-inference-pool.js';
import type { Prediction, ValuationPredictor } from './prediction.js';
import { scoreBatches, type FeatureBatch } from './score-batches.js';

/** Scores row r as X[r * nF] after a random delay, and records how many calls overlap. */
class SlowPredictor implements ValuationPredictor {
  active = 0;
  maxActive = 0;
  async predict(_modelId: string, X: Float32Array, nRows: number, nFeatures: number): Promise<Prediction> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    await new Promise((r) => setTimeout(r, Math.random() * 10));
    this.active--;
    const raw = Float32Array.from({ length: nRows }, (_, r) => X[r * nFeatures]);
    return { raw, value: raw.map(Math.exp) };
  }
}

interface IdBatch extends FeatureBatch {
  firstId: number;
}

function* batches(n: number): Generator<IdBatch> {
  for (let b = 0; b < n; b++) yield { firstId: b * 10, X: Float32Array.from({ length: 10 }, (_, r) => b * 10 + r), nRows: 10, nFeatures: 1 };
}

test('yields in input order with bounded concurrency', async () => {
  const p = new SlowPredictor();
  const seen: number[] = [];
  for await (const { batch, prediction } of scoreBatches(p, 'm', batches(30), { concurrency: 3 })) {
    expect(prediction.raw[0]).toBe(batch.firstId);
    seen.push(batch.firstId);
  }
  expect(seen).toEqual(Array.from({ length: 30 }, (_, b) => b * 10));
  expect(p.maxActive).toBe(3);
});

test('cancellation and predictor errors surface as AppraiseErrors', async () => {
  const ac = new AbortController();
  const run = async () => {
    for await (const { batch } of scoreBatches(new SlowPredictor(), 'm', batches(30), { signal: ac.signal })) if (batch.firstId === 50) ac.abort();
  };
  await expect(run()).rejects.toMatchObject({ code: 'CANCELLED' });
  const failing: ValuationPredictor = { predict: async () => Promise.reject(Object.assign(new Error('boom'), { code: 'INTERNAL' })) };
  await expect(
    (async () => {
      for await (const _ of scoreBatches(failing, 'm', batches(3))) void _;
    })(),
  ).rejects.toThrow('boom');
});

test('scores through the worker pool', async () => {
  const model = syntheticEnsemble({ seed: 8, nTrees: 30, maxDepth: 4, nFeatures: 4 });
  const pool = new OnnxInferencePool({ size: 2, minRowsPerWorker: 200 });
  try {
    await pool.loadModel('m', exportTreeEnsembleToOnnx(model, { targetTransform: 'log' }));
    const X = syntheticRows(model, 3000, 1);
    const source = async function* () {
      for (let start = 0; start < 3000; start += 700) {
        const rows = Math.min(700, 3000 - start);
        yield { start, X: X.subarray(start * 4, (start + rows) * 4), nRows: rows, nFeatures: 4 };
      }
    };
    const whole = await pool.predict('m', X, 3000, 4);
    let rows = 0;
    for await (const { batch, prediction } of scoreBatches(pool, 'm', source())) {
      expect(Array.from(prediction.value)).toEqual(Array.from(whole.value.subarray(batch.start, batch.start + batch.nRows)));
      rows += batch.nRows;
    }
    expect(rows).toBe(3000);
  } finally {
    await pool.close();
  }
});
