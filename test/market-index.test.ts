import { test, expect } from 'vitest';
import { SeededRandom } from '../core/common/seeded-random.js';
import { hedonicSales, type DesignFeature } from '../core/market/hedonic-design.js';
import { estimateMarketIndex } from '../core/market/price-index.js';
import { backtestChoice, fitTrend, forecastTrend } from '../core/market/nowcast.js';
import { adjustmentAtDate } from '../core/market/market-adjustment.js';
import { generateSales, normal, type GeneratedSale } from './helpers/market-sales.js';

const MONTHS = 24;

/** A bumpy market: a random walk with drift, seeded (the truth the estimate is checked against). */
function randomWalk(seed: number, drift: number, step: number): number[] {
  const r = new SeededRandom(seed);
  const path = [0];
  for (let m = 1; m < MONTHS; m++) path.push(path[m - 1] + drift + step * normal(r));
  return path;
}

/** The sales as the training layer hands them to core/market: a feature matrix and its descriptors. */
function asIndexInput(sales: GeneratedSale[], withRegion: boolean) {
  const zones = [...new Set(sales.map((s) => s.zone))].sort();
  const regions = [...new Set(sales.map((s) => s.region))].sort();
  const features: DesignFeature[] = [
    { name: 'area', kind: 'numeric', timeBased: false, nCategories: 0 },
    { name: 'quality', kind: 'numeric', timeBased: false, nCategories: 0 },
    { name: 'zone', kind: 'categorical', timeBased: false, nCategories: zones.length },
    { name: 'sale_month', kind: 'numeric', timeBased: true, nCategories: 0 },
  ];
  const nF = features.length;
  const X = new Float32Array(sales.length * nF);
  sales.forEach((s, i) => X.set([s.area, s.quality, zones.indexOf(s.zone), s.month], i * nF));
  return hedonicSales({
    X,
    nFeatures: nF,
    rows: Int32Array.from(sales.keys()),
    features,
    logPrice: Float64Array.from(sales, (s) => Math.log(s.price)),
    day: Float64Array.from(sales, (s) => Date.parse(`${s.date}T00:00:00Z`) / 86_400_000),
    region: withRegion ? { column: 'region', groups: null, codes: Int32Array.from(sales, (s) => regions.indexOf(s.region)), names: regions } : null,
    ids: null,
  });
}

test('on sales with a known monthly index, the estimate is within its 95 % band for at least 90 % of months', () => {
  let inside = 0;
  let months = 0;
  // Several markets, so the share is not one lucky draw.
  for (const seed of [1, 2, 3]) {
    const path = randomWalk(seed, 0.006, 0.015);
    const sales = generateSales({ seed: seed + 100, months: MONTHS, paths: { all: path }, perRegion: { all: 2400 } });
    const index = estimateMarketIndex(asIndexInput(sales, false), { saleDate: 'date', period: 'month' });
    expect(index.whole.points).toHaveLength(MONTHS);
    expect(index.reference).toBe('2021-12');
    // The property's characteristics are held constant (and the time feature is not among them).
    expect(index.controls).toContain('log area');
    expect(index.controls).toContain('zone');
    expect(index.controls).not.toContain('sale_month');
    index.whole.points.forEach((p, m) => {
      const truth = path[m] - path[MONTHS - 1];
      if (m === MONTHS - 1) {
        expect(p.logIndex).toBe(0);
        return;
      }
      months++;
      if (Math.abs(p.logIndex - truth) <= 1.96 * p.se) inside++;
      expect(p.se).toBeGreaterThan(0);
      expect(p.se).toBeLessThan(0.05);
    });
  }
  expect(inside / months).toBeGreaterThanOrEqual(0.9);
});

test('with a known regional split, each region recovers its own path, not the average', () => {
  const rising = Array.from({ length: MONTHS }, (_, m) => 0.015 * m);
  const flat = Array.from({ length: MONTHS }, () => 0);
  const falling = Array.from({ length: MONTHS }, (_, m) => -0.01 * m);
  const sales = generateSales({
    seed: 7,
    months: MONTHS,
    paths: { east: rising, west: flat, south: falling, tiny: rising },
    perRegion: { east: 2400, west: 2400, south: 1600, tiny: 20 },
  });
  const index = estimateMarketIndex(asIndexInput(sales, true), { saleDate: 'date', period: 'month' });
  const byName = new Map(index.regions.map((r) => [r.region, r]));
  // A region with 20 sales has no index of its own: it uses the whole file's.
  expect(byName.has('tiny')).toBe(false);
  expect(adjustmentAtDate(index, 'tiny', '2021-01-15').region).toBeNull();
  for (const [name, path] of [
    ['east', rising],
    ['west', flat],
    ['south', falling],
  ] as const) {
    const series = byName.get(name)!;
    expect(series.shrinkage).toBeGreaterThan(0.5);
    let inside = 0;
    series.points.slice(0, -1).forEach((p, m) => {
      if (Math.abs(p.logIndex - (path[m] - path[MONTHS - 1])) <= 1.96 * p.se) inside++;
    });
    expect(inside / (MONTHS - 1)).toBeGreaterThanOrEqual(0.9);
    // A valuation in that region uses that region's series.
    expect(adjustmentAtDate(index, name, '2020-01-15').region).toBe(name);
  }
  // The first month tells the regions apart by far more than their bands.
  const first = (n: string) => byName.get(n)!.points[0];
  expect(first('east').logIndex).toBeLessThan(-0.25);
  expect(Math.abs(first('west').logIndex)).toBeLessThan(0.06);
  expect(first('south').logIndex).toBeGreaterThan(0.15);
});

test('the nowcast continues a steady trend and its uncertainty grows with the horizon', () => {
  const se = Array.from({ length: 18 }, (_, m) => (m === 17 ? 0 : 0.01));
  const r = new SeededRandom(5);
  const li = Array.from({ length: 18 }, (_, m) => 0.01 * (m - 17) + (m === 17 ? 0 : 0.01 * normal(r)));
  const trend = fitTrend(li, se);
  const sds = [1, 3, 6, 12].map((h) => forecastTrend(trend, h).sd);
  for (let i = 1; i < sds.length; i++) expect(sds[i]).toBeGreaterThan(sds[i - 1]);
  // Six months on a 1 %-a-month market: somewhere near +6 %, and the truth within two standard deviations.
  const six = forecastTrend(trend, 6);
  expect(Math.abs(six.logIndex - 0.06)).toBeLessThan(2 * six.sd + 0.01);
  expect(six.logIndex).toBeGreaterThan(0.02);
});

test('the nowcast settings are chosen by how well they would have forecast the index itself', () => {
  const r = new SeededRandom(9);
  const se = Array.from({ length: 18 }, (_, m) => (m === 17 ? 0 : 0.004));
  // A steady 1 %-a-month rise: the backtest keeps the trend (little or no damping).
  const steady = Array.from({ length: 18 }, (_, m) => 0.01 * (m - 17) + (m === 17 ? 0 : 0.004 * normal(r)));
  expect(backtestChoice(steady, se, 0.01)!.damping).toBeGreaterThanOrEqual(0.9);
  // A market that turns every four months: extrapolating its latest slope would keep forecasting past each turn,
  // so the backtest damps the trend to (at most) half per period.
  const zig = Array.from({ length: 18 }, (_, m) => 0.02 * (m % 8 < 4 ? m % 8 : 8 - (m % 8)));
  const turning = zig.map((v) => v - zig[17]);
  const choice = backtestChoice(turning, se, 0.01)!;
  expect(choice.damping).toBeLessThanOrEqual(0.5);
  // ... and the fitted trend uses that choice.
  expect(fitTrend(turning, se).damping).toBe(choice.damping);
  // Too short an index has no past to test forecasts on: the likelihood chooses instead.
  expect(backtestChoice(steady.slice(-4), se.slice(-4), 0.01)).toBeNull();
});

test('a valuation past the horizon is refused with what to do', () => {
  const sales = generateSales({ seed: 3, months: MONTHS, paths: { all: randomWalk(9, 0.005, 0.01) }, perRegion: { all: 1500 } });
  const index = estimateMarketIndex(asIndexInput(sales, false), { saleDate: 'date', period: 'month', maxNowcastPeriods: 6 });
  expect(adjustmentAtDate(index, null, '2022-06-10').kind).toBe('nowcast');
  expect(() => adjustmentAtDate(index, null, '2022-07-10')).toThrow(/7 month\(s\) after the last sale.*at most 6 month\(s\).*Retrain/s);
});

test('the repeat-sales cross-check recovers the index from resold properties alone', () => {
  const path = randomWalk(11, 0.008, 0.01);
  const r = new SeededRandom(12);
  const ids: string[] = [];
  const logPrice: number[] = [];
  const day: number[] = [];
  for (let h = 0; h < 1500; h++) {
    const value = 12 + 0.5 * normal(r);
    for (const month of [r.int(MONTHS), r.int(MONTHS)]) {
      ids.push(`p${h}`);
      logPrice.push(value + path[month] + 0.05 * normal(r));
      day.push(Date.UTC(2020, month, 10) / 86_400_000);
    }
  }
  const n = ids.length;
  const index = estimateMarketIndex(
    {
      n,
      logPrice: Float64Array.from(logPrice),
      day: Float64Array.from(day),
      controls: { names: [], values: new Float64Array(0) },
      effects: [],
      region: null,
      ids,
    },
    { saleDate: 'date', period: 'month' },
  );
  expect(index.repeatSales).not.toBeNull();
  expect(index.repeatSales!.pairs).toBeGreaterThan(1300);
  let inside = 0;
  index.repeatSales!.points.slice(0, -1).forEach((p, m) => {
    if (Math.abs(p.logIndex - (path[m] - path[MONTHS - 1])) <= 1.96 * p.se) inside++;
  });
  expect(inside / (MONTHS - 1)).toBeGreaterThanOrEqual(0.9);
});

test('a control that does not vary in the sample (a small fold) does not stop the index: the others still measure it', () => {
  // Before the control columns had a ridge, an all-zero standardised control made the system singular and
  // training on a few hundred sales failed now and then with "could not be estimated".
  const r = new SeededRandom(7);
  const n = 600;
  const truth = (m: number) => 0.01 * m;
  const day = new Float64Array(n);
  const logPrice = new Float64Array(n);
  const values = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    const m = i % 12;
    day[i] = Date.UTC(2020, m, 1 + (i % 27)) / 86_400_000;
    const size = normal(r);
    values[i * 2] = size;
    values[i * 2 + 1] = 0; // constant once standardised
    logPrice[i] = 12 + 0.3 * size + truth(m) + 0.05 * normal(r);
  }
  const index = estimateMarketIndex(
    { n, logPrice, day, controls: { names: ['size', 'constant'], values }, effects: [], region: null, ids: null },
    { saleDate: 'date', period: 'month' },
  );
  const points = index.whole.points;
  expect(points).toHaveLength(12);
  // The index is relative to its reference (the last month): month m sits 0.01 × (11 − m) below it.
  points.forEach((p, m) => expect(Math.abs(p.logIndex - (truth(m) - truth(11)))).toBeLessThan(0.03));
});
