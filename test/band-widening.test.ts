import { test, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempServices } from './helpers/temp-workspace.js';
import { SeededRandom } from '../core/common/seeded-random.js';
import { parseConfig } from '../core/config/load-config.js';
import { normalQuantile } from '../core/valuation/band-widening.js';
import { tierOf } from '../core/models/confidence-tier.js';
import { compileFeatureTransform } from '../core/features/feature-transform.js';
import { FastTreePredictor } from '../core/learner/model/fast-predictor.js';
import type { Valuation } from '../core/valuation/valuation-schemas.js';

// A band that widens where the model knows less: an unseen district and a size beyond any sale in training get
// a wider range than an ordinary house, and the valuation says why. Ordinary houses keep the calibrated band.

const s = tempServices();
afterAll(() => s.cleanup());

const CONFIG = `
version: 1
name: widening
dataset:
  columns:
    price: { type: numeric, required: true, min: 1 }
    area: { type: numeric, min: 10 }
    district: { type: categorical }
target: { column: price }
`;
const DISTRICTS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

function salesCsv(n: number): string {
  const r = new SeededRandom(3);
  const lines = ['price,area,district'];
  for (let i = 0; i < n; i++) {
    const area = Math.round(40 + r.next() * 160); // 40–200 m²
    const d = r.int(DISTRICTS.length);
    const price = Math.round(area * 3000 * (0.6 + d * 0.15) * Math.exp(0.1 * (r.next() - 0.5)));
    lines.push([price, area, DISTRICTS[d]].join(','));
  }
  return lines.join('\n');
}

let modelId = '';
/** The calibrated 80 % half-width of a house before any widening: its tier's quantile times its difficulty σ̂(x). */
let q80 = (_house: Record<string, string | number>) => 0;
beforeAll(async () => {
  const csv = join(s.dir, 'sales.csv');
  writeFileSync(csv, salesCsv(1500));
  const { datasetId } = await s.datasets.ingest({ file: csv, config: parseConfig(CONFIG) });
  modelId = (await s.training.train({ dataset: datasetId, folds: 3, params: { nRounds: 150, learningRate: 0.2 } })).modelId;
  const manifest = s.models.load(modelId).manifest;
  const p = manifest.propertyIntervals!;
  const compiled = compileFeatureTransform(manifest.featureTransform);
  const sigma = new FastTreePredictor(p.difficulty);
  q80 = (house) => {
    const x = compiled.fromRecord(house).vector;
    const sd = Math.max(p.floor, sigma.predict(x, 1)[0]);
    const l = p.levels.find((i) => i.level === 0.8)!;
    return (l.byTier[tierOf(p.fsdScale * sd)] ?? l.quantile) * sd;
  };
}, 120_000);

const width = (v: Valuation) => Math.log(v.interval.high / v.interval.low);
const wider = (v: Valuation) => v.warnings.filter((w) => w.startsWith('the band is wider'));

test('an ordinary house keeps the calibrated band and no widening reason', async () => {
  for (const house of [
    { area: 100, district: 'c' },
    { area: 195, district: 'h' },
  ]) {
    const v = await s.valuation.value(modelId, house);
    expect(wider(v)).toEqual([]);
    expect(width(v)).toBeCloseTo(2 * q80(house), 6); // log target: estimate ×/÷ exp(q·σ̂(x))
  }
});

test('an unseen district widens the band by the spread over the known districts, and says so', async () => {
  const typical = await s.valuation.value(modelId, { area: 100, district: 'c' });
  const unseen = await s.valuation.value(modelId, { area: 100, district: 'Nowhere Heights' });
  expect(wider(unseen)).toEqual([
    'the band is wider because district "Nowhere Heights" was not seen in training: it allows for the spread of estimates over the 8 known values',
  ]);
  // The districts' effects (×0.6 … ×1.65) have a log-spread of about 0.3, far above the ±5 % noise.
  expect(width(unseen)).toBeGreaterThan(2 * width(typical));
  expect(unseen.interval.low).toBeLessThan(unseen.estimate);
  expect(unseen.interval.high).toBeGreaterThan(unseen.estimate);
});

test('a size beyond the largest in training widens the band more the further out it is, and says so', async () => {
  const typical = await s.valuation.value(modelId, { area: 190, district: 'c' });
  const big = await s.valuation.value(modelId, { area: 400, district: 'c' });
  const huge = await s.valuation.value(modelId, { area: 1200, district: 'c' });
  expect(wider(big)).toHaveLength(1);
  expect(wider(big)[0]).toMatch(/^the band is wider because area 400 is above the largest value in training \(\d+\)/);
  expect(width(big)).toBeGreaterThan(1.2 * width(typical));
  expect(width(huge)).toBeGreaterThan(width(big));
  const small = await s.valuation.value(modelId, { area: 12, district: 'c' });
  expect(wider(small)[0]).toMatch(/area 12 is below the smallest value in training \(\d+\)/);
});

test('batch scoring gives each row the same band as a single valuation', async () => {
  const houses = [
    { area: 100, district: 'c' },
    { area: 100, district: 'Nowhere Heights' },
    { area: 400, district: 'c' },
    { area: 100, district: '' }, // missing, not unseen: the trees learned where missing goes, no widening
  ];
  const file = join(s.dir, 'to-score.csv');
  writeFileSync(file, ['area,district', ...houses.map((h) => `${h.area},${h.district}`)].join('\n'));
  const out = join(s.dir, 'scored.csv');
  await s.valuation.score(modelId, file, out);
  const rows = readFileSync(out, 'utf8').trim().split('\n').slice(1);
  for (const [i, house] of houses.entries()) {
    const v = await s.valuation.value(modelId, house.district ? house : { area: house.area });
    // The input's two columns, the file line, the estimate, then the 80% range.
    const [, , line, , low80, high80] = rows[i].split(',').map(Number);
    expect(line).toBe(i + 2);
    expect(low80).toBeCloseTo(v.interval.low, 0);
    expect(high80).toBeCloseTo(v.interval.high, 0);
  }
  const missing = await s.valuation.value(modelId, { area: 100 });
  expect(wider(missing)).toEqual([]);
});

test('the normal quantile used to combine spreads matches the tables', () => {
  expect(normalQuantile(0.9)).toBeCloseTo(1.2815516, 6);
  expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6);
  expect(normalQuantile(0.005)).toBeCloseTo(-2.5758293, 6);
});
