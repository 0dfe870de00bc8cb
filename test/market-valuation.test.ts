import { test, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempServices } from './helpers/temp-workspace.js';
import { parseConfig } from '../core/config/load-config.js';
import { generateSales, salesCsv, MARKET_TEST_YAML } from './helpers/market-sales.js';
import type { TrainResult } from '../core/training/training-schemas.js';
import type { AppraiseError } from '../core/common/errors.js';
import { marketIndexViewSchema } from '../core/market/market-schemas.js';

/**
 * A market rising 2.5 % a month for 18 months (2020-01 to 2021-06) in one region and flat in the other: a model
 * trained with the local price index must value at each date's market level inside the data, nowcast after it
 * with a wider band that says so, refuse past the horizon, and keep the out-of-time blocks near a ratio of 1.
 */
const MONTHS = 18;
const rising = Array.from({ length: MONTHS }, (_, m) => 0.025 * m);
const flat = Array.from({ length: MONTHS }, () => 0);
const sales = generateSales({ seed: 21, months: MONTHS, paths: { north: rising, south: flat }, perRegion: { north: 1800, south: 1200 }, noise: 0.1 });
const fast = { nRounds: 120, learningRate: 0.15 };
const s = tempServices();
afterAll(() => s.cleanup());

let withIndex: TrainResult;
let without: TrainResult;
const house = { area: '1500', quality: '6', zone: 'z3', region: 'north' };

beforeAll(async () => {
  const csv = join(s.dir, 'sales.csv');
  writeFileSync(csv, salesCsv(sales));
  const indexed = parseConfig(`${MARKET_TEST_YAML}market: { region: region, maxNowcastMonths: 6 }\n`);
  const plain = parseConfig(`${MARKET_TEST_YAML}market: { enabled: false }\n`);
  const a = (await s.datasets.ingest({ file: csv, config: indexed, name: 'indexed' })).datasetId;
  const b = (await s.datasets.ingest({ file: csv, config: plain, name: 'plain' })).datasetId;
  withIndex = await s.training.train({ dataset: a, folds: 4, params: fast, seed: 1 });
  without = await s.training.train({ dataset: b, folds: 4, params: fast, seed: 1 });
}, 240_000);

test('training deflates by a regional index, stores it in the manifest and reports out-of-time blocks', () => {
  expect(withIndex.market).toMatchObject({ reference: '2021-06', periods: MONTHS, regions: 2 });
  expect(without.market).toBeNull();
  const manifest = s.models.manifest(withIndex.modelId);
  expect(manifest.market?.regions.map((r) => r.region).sort()).toEqual(['north', 'south']);
  // Expanding window over 4 blocks: blocks 2–4 are each predicted from the ones before.
  expect(withIndex.outOfTime?.folds).toHaveLength(3);
  expect(withIndex.outOfTime?.scheme).toMatch(/time-ordered.*deflated/);
  expect(manifest.outOfTime?.rmseLog).toBe(withIndex.outOfTime?.rmseLog);
});

test('out of time, the index keeps the later blocks near a median ratio of 1 where the plain model falls behind', () => {
  const last = (r: TrainResult) => r.outOfTime!.folds[r.outOfTime!.folds.length - 1].medianRatio;
  // Without the index the trees hold prices at their last training level while the north keeps rising.
  expect(last(without)).toBeLessThan(0.975);
  expect(Math.abs(last(withIndex) - 1)).toBeLessThan(0.025);
  expect(withIndex.outOfTime!.rmseLog).toBeLessThan(without.outOfTime!.rmseLog);
});

test('inside the data a valuation is at its own date’s market level: the same house a year earlier is worth the true index less', async () => {
  const early = await s.valuation.value(withIndex.modelId, house, { valuationDate: '2020-06-15', log: false });
  const late = await s.valuation.value(withIndex.modelId, house, { valuationDate: '2021-06-15', log: false });
  // The north rose 12 months × 2.5 % = 0.30: the truth of the generator, not a figure of the index.
  expect(Math.log(late.estimate / early.estimate)).toBeGreaterThan(0.3 - 0.05);
  expect(Math.log(late.estimate / early.estimate)).toBeLessThan(0.3 + 0.05);
  expect(late.warnings.join(' ')).not.toMatch(/nowcast|outside the sales/);
  // The flat south barely moves.
  const south = { ...house, region: 'south' };
  const e2 = await s.valuation.value(withIndex.modelId, south, { valuationDate: '2020-06-15', log: false });
  const l2 = await s.valuation.value(withIndex.modelId, south, { valuationDate: '2021-06-15', log: false });
  expect(Math.abs(Math.log(l2.estimate / e2.estimate))).toBeLessThan(0.05);
  // The market's move is a reason of its own, and the reasons still add up to the estimate.
  const marketReason = early.contributions.find((c) => c.feature === 'market_conditions');
  expect(marketReason!.amount).toBeLessThan(0);
  expect(early.contributions.reduce((a, c) => a + c.amount, 0) + early.baseValue).toBeCloseTo(early.estimate, 0);
});

test('six months after the last sale the interval is wider and the warning states the nowcast; past the horizon it refuses', async () => {
  const atLast = await s.valuation.value(withIndex.modelId, house, { valuationDate: '2021-06-20', log: false });
  const later = await s.valuation.value(withIndex.modelId, house, { valuationDate: '2021-12-20', log: false });
  const width = (v: typeof atLast) => Math.log(v.interval.high / v.interval.low);
  expect(width(later)).toBeGreaterThan(width(atLast));
  const note = later.warnings.find((w) => w.includes('nowcast'));
  expect(note).toMatch(/6 month\(s\) after the last sale .*since 2021-06.*widens the 80 % range from ±[\d.]+ % to ±[\d.]+ %/);
  // A rising market carried forward: the later value is higher.
  expect(later.estimate).toBeGreaterThan(atLast.estimate);
  const refused = await s.valuation.value(withIndex.modelId, house, { valuationDate: '2022-01-20', log: false }).catch((e: AppraiseError) => e);
  expect((refused as AppraiseError).code).toBe('INVALID_INPUT');
  expect((refused as AppraiseError).message).toMatch(/at most 6 month\(s\).*Retrain/);
});

test('the plain model keeps its old meaning: a date after its sales values at the last sale’s market level, and says so', async () => {
  const later = await s.valuation.value(without.modelId, house, { valuationDate: '2021-12-20', log: false });
  expect(later.warnings.join(' ')).toMatch(/outside the sales this model learned from/);
  expect(later.contributions.some((c) => c.feature === 'market_conditions')).toBe(false);
});

test('market.index gives the Market page a model’s stored index or a dataset’s, with the nowcast to the horizon', () => {
  const fromModel = marketIndexViewSchema.parse(s.market.index({ model: withIndex.modelId }));
  expect(fromModel.source).toMatchObject({ kind: 'model', id: withIndex.modelId });
  expect(fromModel.index).toEqual(s.models.manifest(withIndex.modelId).market);
  expect(fromModel.forecasts.map((f) => f.region)).toEqual([null, ...fromModel.index.regions.map((r) => r.region)]);
  for (const f of fromModel.forecasts) {
    expect(f.points.map((p) => p.period)).toEqual(['2021-07', '2021-08', '2021-09', '2021-10', '2021-11', '2021-12']);
    for (let i = 1; i < f.points.length; i++) expect(f.points[i].sd).toBeGreaterThan(f.points[i - 1].sd);
  }
  const fromDataset = marketIndexViewSchema.parse(s.market.index({ dataset: 'indexed' }));
  expect(fromDataset.source.kind).toBe('dataset');
  expect(fromDataset.index.nSales).toBe(sales.length);
  // The plain dataset turned its index off, and the plain model has none: both say so.
  expect(() => s.market.index({ dataset: 'plain' })).toThrow(/has no price index/);
  expect(() => s.market.index({ model: without.modelId })).toThrow(/has no price index/);
});

test('the grid’s time row carries each comparable to the valuation date by the index', async () => {
  const v = await s.valuation.value(withIndex.modelId, house, { valuationDate: '2021-06-15', log: false, grid: true });
  const grid = v.comparables.filter((c) => 'adjustments' in c);
  expect(grid.length).toBeGreaterThan(0);
  let checked = 0;
  for (const c of grid) {
    const time = c.adjustments.find((a) => a.group === 'time')!;
    const market = time.features.find((f) => f.feature === 'market_conditions')!;
    expect(market.subject).toBe('2021-06-15');
    expect(market.comparable).toBe(c.saleDate);
    // A comparable sold in the rising north a year or more earlier is adjusted up by the market, roughly by the
    // generator's true rise over that time (2.5 % a month), within the index's and the trees' noise.
    const months = (Date.parse('2021-06-15') - Date.parse(c.saleDate!)) / (30.44 * 86_400_000);
    const region = c.adjustments.flatMap((a) => a.features).find((f) => f.feature === 'region')?.comparable;
    if (region === 'north' && months > 6) {
      checked++;
      expect(market.amount).toBeGreaterThan(0.5 * c.price * (Math.exp(0.025 * months) - 1));
    }
  }
  expect(checked).toBeGreaterThan(0);
});

test('batch scoring applies the index row by row as a single valuation does, and refuses rows past the horizon', async () => {
  const file = join(s.dir, 'to-score.csv');
  const dates = ['2020-06-15', '2021-06-20', '2021-12-20', '2022-03-01'];
  writeFileSync(file, ['id,date,price,area,quality,zone,region', ...dates.map((d, i) => `x${i},${d},,1500,6,z3,north`)].join('\n') + '\n');
  const out = join(s.dir, 'scored.csv');
  const r = await s.valuation.score(withIndex.modelId, file, out);
  expect([r.scored, r.failed]).toEqual([3, 1]);
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  const head = lines[0].split(',');
  const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [head[i], v])));
  for (const [i, d] of dates.slice(0, 3).entries()) {
    const v = await s.valuation.value(withIndex.modelId, house, { valuationDate: d, log: false });
    expect(rows[i].date).toBe(d); // the input as read, before the index holds the date at the last sale
    expect(Number(rows[i].appraise_estimate)).toBeCloseTo(v.estimate, -1);
    expect(Number(rows[i].appraise_low_80)).toBeCloseTo(v.interval.low, -1);
    expect(Number(rows[i].appraise_high_80)).toBeCloseTo(v.interval.high, -1);
  }
  expect(lines[4]).toMatch(/at most 6 month\(s\)/);
});
