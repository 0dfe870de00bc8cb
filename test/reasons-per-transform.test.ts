import { test, expect, beforeAll, afterAll } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempAppHost } from './helpers/temp-workspace.js';
import { SeededRandom } from '../core/common/seeded-random.js';
import { parseConfig } from '../core/config/load-config.js';
import type { Valuation } from '../core/valuation/valuation-schemas.js';
import { trainResultSchema } from '../core/training/training-schemas.js';

// The reasons behind a value, for each target transform, through the real API (outputs validated against the
// contract, so a NaN or Infinity anywhere would come back as an INTERNAL error instead of a valuation).

type Transform = 'log' | 'log1p' | 'none';
const TRANSFORMS: Transform[] = ['log', 'log1p', 'none'];

const configFor = (transform: Transform) => `
version: 1
name: reasons-${transform}
dataset:
  columns:
    price: { type: numeric, required: true, min: 0 }
    area: { type: numeric, min: 10 }
    rooms: { type: integer, min: 0, max: 20 }
    district: { type: categorical }
    garden: { type: boolean }
target: { column: price, transform: ${transform} }
`;

function salesCsv(n: number): string {
  const r = new SeededRandom(5);
  const districts = ['north', 'south', 'east', 'west', 'centre'];
  const lines = ['price,area,rooms,district,garden'];
  for (let i = 0; i < n; i++) {
    const area = Math.round(40 + r.next() * 160);
    const rooms = 1 + Math.floor(area / 35);
    const d = r.int(districts.length);
    const garden = r.next() < 0.4;
    const price = Math.round(area * 2500 * (0.8 + 0.1 * d) * (garden ? 1.1 : 1) * (0.9 + 0.2 * r.next()));
    lines.push([price, area, rooms, districts[d], garden ? 'yes' : 'no'].join(','));
  }
  return lines.join('\n');
}

const HOUSE = { area: 120, rooms: 4, district: 'west', garden: 'yes' };
const valuations = new Map<Transform, Valuation>();
let host: Awaited<ReturnType<typeof tempAppHost>>;

beforeAll(async () => {
  host = await tempAppHost({ jobsInWorkers: false, processName: 'none' });
  const csv = join(host.dir, 'sales.csv');
  writeFileSync(csv, salesCsv(600));
  const s = host.services;
  for (const transform of TRANSFORMS) {
    const { datasetId } = await s.datasets.ingest({ file: csv, config: parseConfig(configFor(transform), `${transform}.yaml`) });
    const { modelId } = await s.training.train({ dataset: datasetId, folds: 2, params: { nRounds: 30, learningRate: 0.3 } });
    valuations.set(transform, (await host.dispatcher.call('value', { model: modelId, input: HOUSE })) as Valuation);
  }
}, 120_000);
afterAll(() => host.cleanup());

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

test.each(TRANSFORMS)('%s: every amount is finite and the amounts add up to estimate − base value', (transform) => {
  const v = valuations.get(transform)!;
  expect(v.contributions).toHaveLength(4);
  for (const c of v.contributions) expect(Number.isFinite(c.amount), `${c.feature} ${c.amount}`).toBe(true);
  expect(sum(v.contributions.map((c) => c.amount))).toBeCloseTo(v.estimate - v.baseValue, 4);
  // The model's own figure for this house, not a constant: the contributions must actually move it.
  expect(Math.abs(v.estimate - v.baseValue)).toBeGreaterThan(1000);
});

// The estimate comes from ONNX Runtime in float32, the contributions from TreeSHAP in float64: they agree to
// float32 precision (a few 1e-7 of the price), which is the tolerance below.
const close = (a: number, b: number, scale: number) => expect(Math.abs(a - b)).toBeLessThan(1e-6 * Math.abs(scale));

test('none: each amount is the contribution itself, in currency', () => {
  const v = valuations.get('none')!;
  for (const c of v.contributions) close(c.amount, c.value, v.estimate);
  close(sum(v.contributions.map((c) => c.value)), v.estimate - v.baseValue, v.estimate);
  expect(v.contributions.every((c) => c.factor === undefined)).toBe(true);
});

test('log: each feature multiplies the price by its factor, and the factors take the base to the estimate', () => {
  const v = valuations.get('log')!;
  for (const c of v.contributions) expect(c.factor).toBeCloseTo(Math.exp(c.value), 12);
  const product = v.contributions.reduce((p, c) => p * c.factor!, 1);
  close(v.baseValue * product, v.estimate, v.estimate);
});

test('log1p: the contributions add up in log1p space, the amounts in currency', () => {
  const v = valuations.get('log1p')!;
  close(sum(v.contributions.map((c) => c.value)), Math.log1p(v.estimate) - Math.log1p(v.baseValue), 1);
  expect(v.contributions.every((c) => c.factor === undefined)).toBe(true);
});

test('the ranges are finite and around the estimate for every transform', () => {
  for (const transform of TRANSFORMS) {
    const v = valuations.get(transform)!;
    for (const i of v.intervals) {
      expect(i.low, transform).toBeLessThan(v.estimate);
      expect(i.high, transform).toBeGreaterThan(v.estimate);
    }
  }
});

test.each(['none', 'log1p'] as const)('%s: sales at a price of 0 (allowed by min: 0) train to a result the contract accepts', async (transform) => {
  const csv = join(host.dir, `with-zeros-${transform}.csv`);
  const lines = salesCsv(300).split('\n');
  writeFileSync(csv, lines.map((l, i) => (i > 0 && i % 30 === 0 ? l.replace(/^\d+,/, '0,') : l)).join('\n'));
  const s = host.services;
  const { datasetId } = await s.datasets.ingest({ file: csv, config: parseConfig(configFor(transform)) });
  const r = await s.training.train({ dataset: datasetId, folds: 2, params: { nRounds: 20, learningRate: 0.3 } });
  // Before, the percentage errors and sales ratios divided by 0: Infinity, which the contract refuses.
  expect(trainResultSchema.safeParse(r).success).toBe(true);
  expect(r.cv.n).toBe(300);
});
