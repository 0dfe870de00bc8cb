import { test, expect } from 'vitest';
import { trainGbdt } from './gbdt-trainer.js';
import { friedmanTable } from '../../../test/fixtures/synthetic-regression.js';
import { AppraiseError } from '../../common/errors.js';

test('training is deterministic for a seed, and identical with 1 and 2 threads', async () => {
  // Large enough (rows × features) for the 2-thread run to really use its worker.
  const data = friedmanTable(12_000, 3);
  const params = { nRounds: 30, subsample: 0.8, colsampleByTree: 0.7, seed: 11, earlyStoppingRounds: 0 };
  const a = await trainGbdt(data, params, { threads: 1 });
  const b = await trainGbdt(data, params, { threads: 1 });
  const c = await trainGbdt(data, params, { threads: 2, minParallelWork: 0 });
  expect(JSON.stringify(b.model)).toBe(JSON.stringify(a.model));
  expect(JSON.stringify(c.model)).toBe(JSON.stringify(a.model));
  // Depth-wise trees split many nodes per level, which the pool shares out by node rather than by feature.
  const depthwise = { ...params, growPolicy: 'depthwise' as const, maxDepth: 6, maxLeaves: 0, colsampleByTree: 1 };
  const e = await trainGbdt(data, depthwise, { threads: 1 });
  const f = await trainGbdt(data, depthwise, { threads: 2, minParallelWork: 0 });
  const g = await trainGbdt(data, depthwise, { threads: 3, minParallelWork: 0 });
  expect(JSON.stringify(f.model)).toBe(JSON.stringify(e.model));
  expect(JSON.stringify(g.model)).toBe(JSON.stringify(e.model));
  const d = await trainGbdt(data, { ...params, seed: 12 }, { threads: 1 });
  expect(JSON.stringify(d.model)).not.toBe(JSON.stringify(a.model));
});

test('aborting rejects with CANCELLED and closes the workers', async () => {
  const data = friedmanTable(8000, 8);
  const ac = new AbortController();
  const promise = trainGbdt(
    data,
    { nRounds: 100_000, earlyStoppingRounds: 0 },
    { threads: 2, minParallelWork: 0, signal: ac.signal, onProgress: (p) => p.round === 20 && ac.abort() },
  );
  await expect(promise).rejects.toMatchObject({ code: 'CANCELLED' });
  await expect(promise).rejects.toBeInstanceOf(AppraiseError);
  const pre = new AbortController();
  pre.abort();
  await expect(trainGbdt(data, {}, { signal: pre.signal, threads: 1 })).rejects.toMatchObject({ code: 'CANCELLED' });
});
