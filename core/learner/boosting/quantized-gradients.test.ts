import { test, expect } from 'vitest';
import { trainGbdt, quantisedLevels } from './gbdt-trainer.js';
import { FastTreePredictor } from '../model/fast-predictor.js';
import { friedmanTable } from '../../../test/fixtures/synthetic-regression.js';
import { decodeNodeBatch, encodeNodeBatch, LEFT_BINS_STRIDE, nodeBatchCapacity, type NodeBatch } from '../tree/node-batch.js';

const rmse = (model: Awaited<ReturnType<typeof trainGbdt>>['model'], d: ReturnType<typeof friedmanTable>) => {
  const pred = new FastTreePredictor(model).predict(d.X, d.nRows);
  let s = 0;
  for (let i = 0; i < d.nRows; i++) s += (pred[i] - d.y[i]) ** 2;
  return Math.sqrt(s / d.nRows);
};

test('quantised gradients: the same model for 1, 2 and 3 threads, a different model from float gradients, as accurate', async () => {
  const data = friedmanTable(6000, 5);
  const test_ = friedmanTable(3000, 6);
  for (const shape of [{}, { growPolicy: 'depthwise' as const, maxDepth: 6, maxLeaves: 0 }]) {
    const params = { nRounds: 40, earlyStoppingRounds: 0, subsample: 0.8, seed: 3, ...shape };
    const q1 = await trainGbdt(data, { ...params, quantizedGradients: true }, { threads: 1 });
    const q2 = await trainGbdt(data, { ...params, quantizedGradients: true }, { threads: 2, minParallelWork: 0 });
    const q3 = await trainGbdt(data, { ...params, quantizedGradients: true }, { threads: 3, minParallelWork: 0 });
    const f = await trainGbdt(data, params, { threads: 1 });
    expect(JSON.stringify(q2.model)).toBe(JSON.stringify(q1.model));
    expect(JSON.stringify(q3.model)).toBe(JSON.stringify(q1.model));
    expect(JSON.stringify(q1.model)).not.toBe(JSON.stringify(f.model));
    // Holdout error within 1 % of float gradients' (the rounding is unbiased and leaves are refitted exactly).
    expect(rmse(q1.model, test_)).toBeLessThan(rmse(f.model, test_) * 1.01);
  }
}, 300_000);

test('quantised levels keep every packed histogram sum exact in a double', () => {
  for (const n of [10, 17_000, 1_000_000, 10_000_000]) {
    const q = quantisedLevels(n)!;
    expect(q.packBase).toBeGreaterThan(n);
    expect(n * q.packBase * (q.levels + 1)).toBeLessThanOrEqual(2 ** 52);
  }
  expect(quantisedLevels(17_000)!.levels).toBe(32_767);
  expect(quantisedLevels(2 ** 27)).toBeNull();
});

test('a batch on packed gradients carries its scale to the workers', () => {
  const batch: NodeBatch = {
    partitions: [],
    builds: [{ start: 0, end: 9, slot: 0, part: -1, side: 0, rows: 9 }],
    subtractions: [],
    searches: [],
    mode: 'features',
    packed: { scale: 0.125, packBase: 16 },
  };
  const buf = new Float64Array(nodeBatchCapacity(2));
  encodeNodeBatch(batch, buf, new Uint8Array(2 * LEFT_BINS_STRIDE));
  expect(decodeNodeBatch(buf, new Uint8Array(2 * LEFT_BINS_STRIDE)).packed).toEqual({ scale: 0.125, packBase: 16 });
});
