import { test, expect } from 'vitest';
import { balanceFeatureShares, decodeNodeBatch, encodeNodeBatch, LEFT_BINS_STRIDE, nodeBatchCapacity, type NodeBatch } from './node-batch.js';

test('feature shares cover every active feature once, in order, and even out bin-heavy features', () => {
  // Five light features (2 bins) then five heavy ones (256 bins): equal feature counts would load one side far more.
  const binCount = Int32Array.from([2, 2, 2, 2, 2, 256, 256, 256, 256, 256]);
  const active = Int32Array.from({ length: 10 }, (_, i) => i);
  const batch: NodeBatch = {
    partitions: [],
    builds: [{ start: 0, end: 100, slot: 0, part: -1, side: 0, rows: 100 }],
    subtractions: [],
    searches: [{ slot: 0, sumGrad: 0, sumHess: 100, count: 100, part: -1, side: 0 }],
    mode: 'features',
  };
  const bounds = new Int32Array(3);
  balanceFeatureShares(batch, active, 10, binCount, 2, bounds);
  expect(bounds[0]).toBe(0);
  expect(bounds[2]).toBe(10);
  expect(bounds[1]).toBeGreaterThan(5); // the light features all go to thread 0, plus some heavy ones
  const cost = (j0: number, j1: number) => {
    let c = 0;
    for (let j = j0; j < j1; j++) c += 100 + 3 * 2 * binCount[j];
    return c;
  };
  const [a, b] = [cost(0, bounds[1]), cost(bounds[1], 10)];
  expect(Math.abs(a - b) / (a + b)).toBeLessThan(0.2);

  // More threads than features: some shares are empty, none overlap.
  const many = new Int32Array(6);
  balanceFeatureShares(batch, active.subarray(0, 3), 3, binCount, 5, many);
  for (let t = 0; t < 5; t++) expect(many[t + 1]).toBeGreaterThanOrEqual(many[t]);
  expect(many[5]).toBe(3);
});

test('a node batch survives encoding for the workers', () => {
  const batch: NodeBatch = {
    partitions: [{ start: 3, end: 90, feature: 4, leftBins: Uint8Array.of(1, 0, 1), owner: 1 }],
    builds: [{ start: -1, end: -1, slot: 2, part: 0, side: 1, rows: 40 }],
    subtractions: [{ target: 1, small: 2, part: 0 }],
    searches: [{ slot: 2, sumGrad: -1.5, sumHess: 87, count: 87, part: 0, side: 1 }],
    mode: 'nodes',
  };
  const buf = new Float64Array(nodeBatchCapacity(4));
  const pool = new Uint8Array(4 * LEFT_BINS_STRIDE);
  encodeNodeBatch(batch, buf, pool);
  const back = decodeNodeBatch(buf, pool);
  expect(back).toEqual(batch);
});
