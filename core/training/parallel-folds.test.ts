import { test, expect } from 'vitest';
import { friedmanTable } from '../../test/fixtures/synthetic-regression.js';
import { resolveGbdtParams } from '../learner/boosting/gbdt-params.js';
import { randomFolds } from './folds.js';
import { fitFoldsInParallel } from './parallel-folds.js';
import type { AppraiseError } from '../common/errors.js';

const data = friedmanTable(1500, 3);
const plan = randomFolds(data.nRows, 3, 1);
const jobs = plan.activeFolds.map((k) => ({
  fold: k,
  testRows: Int32Array.from(plan.fold.keys()).filter((i) => plan.fold[i] === k),
  trainRows: plan.trainRows(k),
}));
const params = resolveGbdtParams({ nRounds: 60, learningRate: 0.2 });

test('folds fitted in parallel threads give the same predictions as one at a time, and fit the data', async () => {
  const seen = new Set<number>();
  const parallel = await fitFoldsInParallel(data, jobs, params, { concurrency: 3, onProgress: (f) => seen.add(f) });
  const serial = await fitFoldsInParallel(data, jobs, params, { concurrency: 1 });
  expect([...seen].sort()).toEqual([0, 1, 2]);
  for (const j of jobs) {
    expect(Array.from(parallel.get(j.fold)!)).toEqual(Array.from(serial.get(j.fold)!));
    const pred = parallel.get(j.fold)!;
    let se = 0;
    let sv = 0;
    const mean = j.testRows.reduce((a, r) => a + data.y[r], 0) / j.testRows.length;
    j.testRows.forEach((r, i) => {
      se += (pred[i] - data.y[r]) ** 2;
      sv += (data.y[r] - mean) ** 2;
    });
    expect(se / sv).toBeLessThan(0.3); // explains most of the variance out of fold
  }
});

test('aborting stops every fold thread with CANCELLED', async () => {
  const controller = new AbortController();
  const run = fitFoldsInParallel(data, jobs, resolveGbdtParams({ nRounds: 5000, earlyStoppingRounds: 0 }), {
    concurrency: 2,
    signal: controller.signal,
    onProgress: () => controller.abort(),
  });
  const e = (await run.catch((err: unknown) => err)) as AppraiseError;
  expect(e.code).toBe('CANCELLED');
});
