import { test, expect } from 'vitest';
import { friedmanTable } from '../../test/fixtures/synthetic-regression.js';
import { resolveGbdtParams } from '../learner/boosting/gbdt-params.js';
import { trainGbdt } from '../learner/boosting/gbdt-trainer.js';
import { selectRows } from '../learner/data/training-data.js';
import { FastTreePredictor } from '../learner/model/fast-predictor.js';
import { searchHyperparameters, refitRounds, tunedFit } from './hyperparameter-search.js';

const data = friedmanTable(1500, 3);
const rows = Int32Array.from({ length: 900 }, (_, i) => i * 1 + 300); // rows 300..1199 only
const base = resolveGbdtParams({ nRounds: 150, learningRate: 0.2, seed: 5 });
const without = <T extends { seconds: number }>(s: T) => ({ ...s, seconds: 0 });

test('the same rows and seed give the same choice; a different seed draws different candidates', async () => {
  const a = await searchHyperparameters(data, rows, base, { mode: 'fast' });
  const b = await searchHyperparameters(data, rows, base, { mode: 'fast' });
  expect(a).not.toBeNull();
  expect(without(b!.summary)).toEqual(without(a!.summary));
  expect(b!.params).toEqual(a!.params);
  expect(a!.summary.candidates).toBe(6);
  expect(a!.summary.rungs.map((r) => r.candidates)).toEqual([6, 2]);
  // The first rung fits on a third of the inner training rows, the last on all of them (80 % of the given rows).
  expect(a!.summary.innerTrainRows).toBe(720);
  expect(a!.summary.rungs[1].rows).toBe(720);
  expect(a!.summary.rungs[0].rows).toBe(180);
  const c = await searchHyperparameters(data, rows, { ...base, seed: 6 }, { mode: 'fast' });
  expect(c!.summary.rungs[0].scores).not.toEqual(a!.summary.rungs[0].scores);
}, 60_000);

test('picks the clearly better of two candidates on a constructed problem', async () => {
  // Friedman #1 needs fine splits: leaves of at least 300 rows (the base here) cannot follow it; 5 rows can.
  const coarse = { ...base, minSamplesLeaf: 300 };
  const r = await searchHyperparameters(data, rows, coarse, { mode: 'fast', space: { minSamplesLeaf: [5, 300] } });
  expect(r!.summary.candidates).toBe(2);
  expect(r!.params.minSamplesLeaf).toBe(5);
  expect(r!.summary.chosen).toEqual({ minSamplesLeaf: 5 });
  const [bad, good] = r!.summary.rungs[0].scores as number[];
  expect(good).toBeLessThan(bad * 0.8);
  // Everything not searched stays as given.
  expect({ ...r!.params, minSamplesLeaf: 300 }).toEqual(coarse);
}, 60_000);

test('parameters the user fixed are not searched', async () => {
  const r = await searchHyperparameters(
    data,
    rows,
    { ...base, minSamplesLeaf: 300 },
    { mode: 'fast', fixed: ['min_samples_leaf'], space: { minSamplesLeaf: [5, 300] } },
  );
  expect(r).toBeNull();
  const s = await searchHyperparameters(data, rows, { ...base, maxLeaves: 7 }, { mode: 'fast', fixed: ['maxLeaves'] });
  expect(s!.params.maxLeaves).toBe(7);
  expect(Object.keys(s!.summary.chosen)).not.toContain('maxLeaves');
}, 60_000);

test('never reads rows outside those it is given', async () => {
  // Rows outside `rows` are wrecked (targets and features): the choice and every inner score must not move.
  const wrecked = { ...data, X: Float32Array.from(data.X), y: Float64Array.from(data.y) };
  const inside = new Set(rows);
  for (let i = 0; i < data.nRows; i++) {
    if (inside.has(i)) continue;
    wrecked.y[i] = i % 2 ? 1e6 : -1e6;
    for (let f = 0; f < data.nFeatures; f++) wrecked.X[i * data.nFeatures + f] = f === 0 ? 99 : NaN;
  }
  const a = await searchHyperparameters(data, rows, base, { mode: 'fast' });
  const b = await searchHyperparameters(wrecked, rows, base, { mode: 'fast' });
  expect(without(b!.summary)).toEqual(without(a!.summary));
  // And it is the search of those rows alone, as if they were the whole table.
  const c = await searchHyperparameters(selectRows(data, rows), Int32Array.from(rows.keys()), base, { mode: 'fast' });
  expect(without(c!.summary)).toEqual(without(a!.summary));
}, 90_000);

test('the refit uses all given rows for the scaled round count; tuning off is the plain fit', async () => {
  expect(refitRounds(100, 800, 1000)).toBe(125);
  expect(refitRounds(0, 800, 1000)).toBe(1);
  const tuned = await tunedFit(data, rows, base, { mode: 'fast', fixed: [] }, { threads: 1 });
  expect(tuned.summary).not.toBeNull();
  expect(tuned.params.earlyStoppingRounds).toBe(0);
  expect(tuned.params.nRounds).toBe(Math.min(base.nRounds, refitRounds(tuned.summary!.bestIteration, 720, 900)));
  // 900 rows is a small table: the last rung cross-validated and the final model is the refit averaged with the
  // five inner models (see the next test); the refit's own trees come first.
  expect(tuned.summary!.innerFolds).toBe(5);
  expect(tuned.summary!.bagged).toBe(6);
  expect(tuned.fit.model.trees.length).toBeGreaterThan(tuned.params.nRounds);
  const off = await tunedFit(data, rows, base, { mode: 'off', fixed: [] }, { threads: 1 });
  const plain = await trainGbdt(selectRows(data, rows), base, { threads: 1 });
  expect(off.summary).toBeNull();
  expect(off.fit.model).toEqual(plain.model);
}, 90_000);

test('small tables: the last rung cross-validates and the final model is the mean of the refit and the inner models', async () => {
  const search = await searchHyperparameters(data, rows, base, { mode: 'fast' });
  expect(search!.summary.innerFolds).toBe(5);
  expect(search!.innerModels).toHaveLength(5);
  const tuned = await tunedFit(data, rows, base, { mode: 'fast', fixed: [] }, { threads: 1 });
  expect(tuned.params).toMatchObject({ ...search!.params, earlyStoppingRounds: 0 });
  // The refit made independently with the same parameters, on the same rows.
  const refit = await trainGbdt(selectRows(data, rows), tuned.params, { threads: 1 });
  const unseen = Int32Array.from({ length: data.nRows }, (_, i) => i).filter((i) => i < 300 || i >= 1200);
  const test = selectRows(data, unseen);
  const predict = (m: typeof refit.model) => new FastTreePredictor(m).predict(test.X, test.nRows);
  const parts = [refit.model, ...search!.innerModels].map(predict);
  const bagged = predict(tuned.fit.model);
  for (let i = 0; i < test.nRows; i++) {
    const mean = parts.reduce((a, p) => a + p[i], 0) / parts.length;
    expect(bagged[i]).toBeCloseTo(mean, 6);
  }
  // And on rows none of them saw, the mean is more accurate than the refit alone (variance of one fit averaged out).
  const rmse = (p: Float64Array) => Math.sqrt(p.reduce((a, v, i) => a + (v - test.y[i]) ** 2, 0) / p.length);
  expect(rmse(bagged)).toBeLessThan(rmse(parts[0]));
}, 90_000);

test('above the inner-CV row limit the last rung keeps the single 20 % holdout and nothing is averaged', async () => {
  const r = await searchHyperparameters(data, rows, base, { mode: 'fast', innerCvMaxRows: rows.length - 1 });
  expect(r!.summary.innerFolds).toBe(1);
  expect(r!.innerModels).toEqual([]);
  expect(r!.summary.rungs[1].rows).toBe(720);
  // A fold of a large table decides by the table's size, as its final model does, not by its own fewer rows.
  const fold = await searchHyperparameters(data, rows, base, { mode: 'fast', tableRows: 20_000 });
  expect(fold!.summary).toEqual({ ...r!.summary, seconds: fold!.summary.seconds });
  // The cross-validated last rung scores the same survivors differently: it is not the holdout score renamed.
  const cv = await searchHyperparameters(data, rows, base, { mode: 'fast' });
  expect(cv!.summary.rungs[0].scores).toEqual(r!.summary.rungs[0].scores);
  expect(cv!.summary.rungs[1].scores).not.toEqual(r!.summary.rungs[1].scores);
}, 90_000);
