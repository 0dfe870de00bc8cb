import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AppraiseError } from '../common/errors.js';
import { predictRaw } from '../learner/model/tree-model.js';
import { exportTreeEnsembleToOnnx } from '../onnx/export-tree-ensemble.js';
import { syntheticEnsemble, syntheticRows } from '../../test/fixtures/synthetic-ensemble.js';
import { OnnxInferencePool } from './onnx-inference-pool.js';
import type { ModelProcess } from './model-process.js';

const F = 8;
const model = syntheticEnsemble({ seed: 21, nTrees: 120, maxDepth: 5, nFeatures: F, categorical: { 1: 40 } });
const bytes = exportTreeEnsembleToOnnx(model, { targetTransform: 'log' });

function expectMatches(X: Float32Array, nRows: number, got: { raw: Float32Array; value: Float32Array }) {
  expect(got.raw.length).toBe(nRows);
  expect(got.value.length).toBe(nRows);
  for (let r = 0; r < nRows; r++) {
    const ref = predictRaw(model, X.subarray(r * F, (r + 1) * F));
    expect(Math.abs(got.raw[r] - ref) / ref).toBeLessThan(1e-5);
    expect(Math.abs(got.value[r] - Math.exp(ref)) / Math.exp(ref)).toBeLessThan(1e-5);
  }
}

async function rejection(p: Promise<unknown>): Promise<AppraiseError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AppraiseError);
    return e as AppraiseError;
  }
  throw new Error('expected a rejection');
}

describe('OnnxInferencePool', () => {
  let pool: OnnxInferencePool;
  beforeAll(async () => {
    pool = new OnnxInferencePool({ size: 2, minRowsPerWorker: 500 });
    await pool.loadModel('m1', bytes);
  });
  afterAll(() => pool.close());

  test('scores small batches and split batches in row order', async () => {
    const X = syntheticRows(model, 5003, 5);
    expectMatches(X, 5003, await pool.predict('m1', X, 5003, F));
    const small = X.subarray(0, 10 * F); // a view into a larger buffer
    expectMatches(small, 10, await pool.predict('m1', small, 10, F));
    const single = X.subarray(F, 2 * F); // in-thread path
    expectMatches(single, 1, await pool.predict('m1', single, 1, F));
    expect(X.length).toBe(5003 * F); // not detached
  });

  test('concurrent callers each get their own rows back', async () => {
    const batches = Array.from({ length: 12 }, (_, i) => syntheticRows(model, 1 + i * 197, 100 + i));
    const results = await Promise.all(batches.map((X) => pool.predict('m1', X, X.length / F, F)));
    results.forEach((res, i) => expectMatches(batches[i], batches[i].length / F, res));
  });

  test("the caller's matrix is neither detached nor changed by the process hop", async () => {
    const X = syntheticRows(model, 50, 9);
    const keep = X.slice();
    const res = await pool.predict('m1', X, 50, F, { transferInput: true });
    expect(X).toEqual(keep);
    expectMatches(keep, 50, res);
  });

  test('error codes survive the thread hop', async () => {
    expect((await rejection(pool.predict('nope', new Float32Array(F), 1, F))).code).toBe('NOT_FOUND');
    expect((await rejection(pool.predict('m1', new Float32Array(F + 1), 1, F + 1))).code).toBe('INVALID_INPUT');
    const bad = await rejection(pool.loadModel('broken', bytes.subarray(0, bytes.length >> 1)));
    expect(bad.code).toBe('BAD_FILE');
    expect(bad.message).toMatch(/the ONNX file is truncated/);
    expect(pool.hasModel('broken')).toBe(false);
  });

  test('models can be replaced and unloaded', async () => {
    const other = syntheticEnsemble({ seed: 22, nTrees: 10, maxDepth: 3, nFeatures: F });
    await pool.loadModel('m2', exportTreeEnsembleToOnnx(other, { targetTransform: 'none' }));
    const X = syntheticRows(other, 30, 1);
    const a = await pool.predict('m2', X, 30, F);
    expect(a.value[0]).toBeCloseTo(predictRaw(other, X.subarray(0, F)), 4);
    await pool.loadModel('m2', bytes); // replace
    const Y = syntheticRows(model, 30, 1);
    expectMatches(Y, 30, await pool.predict('m2', Y, 30, F));
    expectMatches(Y, 1, await pool.predict('m2', Y.subarray(0, F), 1, F));
    expect(await pool.unloadModel('m2')).toBe(true);
    expect((await rejection(pool.predict('m2', Y, 30, F))).code).toBe('NOT_FOUND');
  });
});

test('close is idempotent and later calls are refused', async () => {
  const pool = new OnnxInferencePool({ size: 1 });
  await pool.loadModel('m', bytes);
  const X = syntheticRows(model, 4, 2);
  expectMatches(X, 4, await pool.predict('m', X, 4, F));
  expectMatches(X, 1, await pool.predict('m', X.subarray(0, F), 1, F));
  await Promise.all([pool.close(), pool.close()]);
  await pool.close();
  expect((await rejection(pool.predict('m', X, 4, F))).code).toBe('CONFLICT');
});

test('a model process that dies is replaced on the next call, with its models reloaded', async () => {
  const pool = new OnnxInferencePool({ size: 1 });
  try {
    await pool.loadModel('m', bytes);
    const X = syntheticRows(model, 4000, 3);
    expect((await pool.predict('m', X, 4000, F)).value).toHaveLength(4000);
    const mp = (pool as unknown as { workers: { process: { child: ChildProcess; spawned: number } }[] }).workers[0].process;
    const exited = new Promise((res) => mp.child.once('exit', res));
    mp.child.kill('SIGKILL'); // as the OOM killer or a crash would
    await exited;
    expectMatches(X, 4000, await pool.predict('m', X, 4000, F));
    expect(mp.spawned).toBe(2);
  } finally {
    await pool.close();
  }
});

describe('OnnxInferencePool with the learnt split', () => {
  test('learns each process cost from its calls and still scores every row in order', async () => {
    const adaptive = new OnnxInferencePool({ size: 2 });
    try {
      await adaptive.loadModel('m', bytes);
      const procs = (adaptive as unknown as { workers: { process: ModelProcess }[] }).workers.map((w) => w.process);
      expect(procs.map((p) => p.scoringCost('m'))).toEqual([null, null]);
      const X = syntheticRows(model, 3000, 9, 0.05);
      for (const n of [3000, 1, 64, 3000]) expectMatches(X, n, await adaptive.predict('m', X.subarray(0, n * F), n, F));
      const costs = procs.map((p) => p.scoringCost('m')).filter((c) => c !== null);
      // The first 3000-row batch went to both processes (32 rows a share until a cost is known).
      expect(costs).toHaveLength(2);
      for (const c of costs) {
        expect(c.msPerRow).toBeGreaterThan(0);
        expect(c.msPerRow).toBeLessThan(1); // 120 trees of depth 5: microseconds a row, not a millisecond
        expect(c.hopMs).toBeGreaterThanOrEqual(0);
      }
      await adaptive.unloadModel('m');
      expect(procs.map((p) => p.scoringCost('m'))).toEqual([null, null]);
    } finally {
      await adaptive.close();
    }
  });
});
