import { test, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { tempServices, kcCsv, kcConfig, repoRoot } from './helpers/temp-workspace.js';
import { FastTreePredictor } from '../core/learner/model/fast-predictor.js';
import { normalQuantile } from '../core/valuation/band-widening.js';
import { TIERS, tierOf } from '../core/models/confidence-tier.js';
import type { ModelManifest } from '../core/models/model-schemas.js';
import type { TrainResult } from '../core/training/training-schemas.js';
import type { Valuation } from '../core/valuation/valuation-schemas.js';

// Per-property bands on the real King County sales: coverage measured on out-of-fold sales that neither trained
// the difficulty model nor set the quantiles is within ±2 points of nominal at 80 % and 95 %, overall and in every
// confidence tier; properties the model knows less about get wider bands, a larger FSD, and say why.

const s = tempServices();
afterAll(() => s.cleanup());

let trained: TrainResult;
let manifest: ModelManifest;
const house = (() => {
  const lines = readFileSync(kcCsv, 'utf8').split(/\r?\n/);
  const header = lines[0].split(',');
  return Object.fromEntries(header.map((h, i) => [h, lines[1].split(',')[i]]));
})();
const typical = { ...house, price: undefined };

beforeAll(async () => {
  const { datasetId } = await s.datasets.ingest({ file: kcCsv, config: kcConfig() });
  // Few rounds: the coverage guarantee does not depend on how good the model is, only on honest residuals.
  trained = await s.training.train({ dataset: datasetId, folds: 5, params: { nRounds: 200, learningRate: 0.15 } });
  manifest = s.models.load(trained.modelId).manifest;
}, 300_000);

const width = (v: Valuation) => Math.log(v.interval.high / v.interval.low);

test('coverage on held-out out-of-fold sales is within ±2 points of nominal overall, and within its sampling error in each tier', () => {
  const c = trained.coverage!;
  expect(c).toBeDefined();
  // Three disjoint parts of the ~21,600 out-of-fold sales; the evaluation part set nothing.
  expect(c.rows.difficulty + c.rows.calibration + c.rows.evaluation).toBe(trained.cv.n);
  expect(c.overall.n).toBe(c.rows.evaluation);
  const print = (g: (typeof c.byTier)[number]) =>
    `${g.group.padEnd(28)} n=${String(g.n).padStart(5)} ${g.coverage.map((x) => `${x.level}: ${(x.coverage * 100).toFixed(1)}`).join('  ')}`;
  console.log([c.overall, ...c.byTier, ...c.byPriceDecile].map(print).join('\n'));
  for (const { level, coverage } of c.overall.coverage) expect(Math.abs(coverage - level), `all at ${level}`).toBeLessThanOrEqual(0.02);
  // A tier's coverage carries the binomial noise of its evaluation sales and of the (about as many) calibration
  // sales that set its quantile: ±2 points, or 2.5 standard errors of both where a tier is small enough for that to
  // be wider. A band not calibrated per tier misses by far more (the High tier of a global band covers ~90 %).
  for (const g of c.byTier.filter((t) => t.n >= 300)) {
    for (const { level, coverage } of g.coverage) {
      const bound = Math.max(0.02, 2.5 * Math.sqrt((2 * level * (1 - level)) / g.n));
      expect(Math.abs(coverage - level), `${g.group} at ${level}`).toBeLessThanOrEqual(bound);
    }
  }
  // The tiers tell properties apart: at least two of them hold a sizeable share of the sales.
  expect(c.byTier.filter((t) => t.n >= 300).length).toBeGreaterThanOrEqual(2);
  expect(c.byPriceDecile).toHaveLength(10);
});

test('an ordinary house gets the band of its own difficulty, with FSD and tier by their definition', async () => {
  const p = manifest.propertyIntervals!;
  const v = await s.valuation.value(trained.modelId, typical);
  expect(v.warnings.filter((w) => w.startsWith('the band is wider'))).toEqual([]);
  const compiled = (await import('../core/features/feature-transform.js')).compileFeatureTransform(manifest.featureTransform);
  // With a price index the trees see every valuation at the last sale date and the index moves it (market-conditions.ts).
  const saleDate = manifest.featureTransform.saleDate!;
  const { vector } = compiled.fromRecord({ ...v.input, [saleDate]: manifest.market ? manifest.saleDateRange!.last : v.input[saleDate] });
  const sigma = Math.max(p.floor, new FastTreePredictor(p.difficulty).predict(vector, 1)[0]);
  const fsd = p.fsdScale * sigma; // log target: the relative slope is 1
  expect(v.fsd!).toBeCloseTo(fsd, 6);
  expect(v.confidenceTier).toBe(tierOf(fsd));
  const q80 = p.levels.find((l) => l.level === 0.8)!;
  expect(width(v)).toBeCloseTo(2 * (q80.byTier[v.confidenceTier!] ?? q80.quantile) * sigma, 6);
});

test('an unknown ZIP code and a 13,000 sqft one-bedroom house get wider bands and a larger FSD than a typical house, and say why', async () => {
  const base = await s.valuation.value(trained.modelId, typical);
  const zip = await s.valuation.value(trained.modelId, { ...typical, zipcode: '98999' });
  const big = await s.valuation.value(trained.modelId, { ...typical, sqft_living: '13000', sqft_above: '13000', sqft_basement: '0', bedrooms: '1' });
  for (const [v, why] of [
    [zip, /the band is wider because zipcode "98999" was not seen in training/],
    [big, /the band is wider because sqft_\w+ 13000 is above the largest value in training/],
  ] as const) {
    expect(
      v.warnings.some((w) => why.test(w)),
      v.warnings.join('\n'),
    ).toBe(true);
    expect(width(v)).toBeGreaterThan(1.1 * width(base));
    expect(v.fsd!).toBeGreaterThan(base.fsd!);
    expect(TIERS.indexOf(v.confidenceTier!)).toBeGreaterThanOrEqual(TIERS.indexOf(base.confidenceTier!));
  }
});

test('a property far from every sale is widened as a sparse neighbourhood, and says why', async () => {
  const base = await s.valuation.value(trained.modelId, typical);
  // Inside the county's bounding box on longitude and latitude, but in the Cascades foothills, far from sales.
  const far = await s.valuation.value(trained.modelId, { ...typical, lat: '47.30', long: '-121.75' });
  expect(
    far.warnings.some((w) => /^the band is wider because few sales are near this property: the 5th nearest sale/.test(w)),
    far.warnings.join('\n'),
  ).toBe(true);
  expect(far.fsd!).toBeGreaterThan(base.fsd!);
});

test('an old manifest without per-property intervals values with its global band, as before', async () => {
  const old = tempServices();
  try {
    const bundled = join(repoRoot, 'models', 'king-county');
    const m = old.models.importFrom(join(bundled, 'model.onnx'), join(bundled, 'manifest.json'));
    const stored = old.models.load(m.id).manifest;
    expect(stored.propertyIntervals).toBeUndefined();
    const q80 = stored.intervals.find((i) => i.level === 0.8)!.quantile;
    const v = await old.valuation.value(m.id, typical);
    expect(v.warnings.filter((w) => w.startsWith('the band is wider'))).toEqual([]);
    expect(width(v)).toBeCloseTo(2 * q80, 6);
    // FSD of a global band: the normal standard deviation of its 80 % half-width.
    expect(v.fsd!).toBeCloseTo(q80 / normalQuantile(0.9), 6);
    expect(v.confidenceTier).toBe(tierOf(v.fsd!));
  } finally {
    await old.cleanup();
  }
});
