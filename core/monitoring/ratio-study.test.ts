import { test, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { priceTiers, ratioStudy } from './ratio-study.js';
import { accuracyMetrics } from '../training/accuracy-metrics.js';

// Prices, estimates and numpy/scipy's ratio statistics, from scripts/monitoring-reference-values.py.
const c = (
  JSON.parse(readFileSync(new URL('../../test/fixtures/monitoring-reference-values.json', import.meta.url), 'utf8')) as {
    cases: {
      ratioStudy: {
        price: number[];
        estimate: number[];
        medianRatio: number;
        cod: number;
        prd: number;
        prb: number;
        prbStdErr: number;
        mdape: number;
        within10: number;
      };
    };
  }
).cases.ratioStudy;

const close = (actual: number | null, expected: number, rel = 1e-9) =>
  expect(Math.abs((actual ?? NaN) - expected)).toBeLessThanOrEqual(rel * Math.abs(expected) + 1e-15);

test('median ratio, COD, PRD and PRB (with its standard error) equal numpy / scipy.stats.linregress', () => {
  const r = ratioStudy(c.estimate, c.price);
  close(r.medianRatio, c.medianRatio);
  close(r.cod, c.cod);
  close(r.prd, c.prd);
  close(r.prb, c.prb, 1e-8);
  close(r.prbHigh! - r.prb!, 1.96 * c.prbStdErr, 1e-7);
  close(r.mdape, c.mdape);
  close(r.within10, c.within10);
  // The fixture is regressive on purpose (cheap homes over-valued): PRB is negative.
  expect(r.prb!).toBeLessThan(0);
  expect(r.intervalCoverage).toBeNull();
});

test('training metrics (core/training) agree with the same reference on median ratio, COD and PRD', () => {
  const m = accuracyMetrics(c.price, c.estimate, c.price.map(Math.log), c.estimate.map(Math.log));
  close(m.medianRatio, c.medianRatio);
  close(m.cod, c.cod);
  close(m.prd, c.prd);
});

test('interval coverage counts sale prices inside the logged interval', () => {
  const r = ratioStudy([100, 100, 100, 100], [90, 100, 130, 111], { low: [80, 80, 80, 80], high: [110, 110, 110, 110] });
  expect(r.intervalCoverage).toBe(0.5);
});

test('price tiers cut at sale-price quartiles', () => {
  const price = Array.from({ length: 100 }, (_, i) => 1000 + i);
  const { tierOf, bounds } = priceTiers(price, 4);
  expect([...tierOf.slice(0, 25)].every((t) => t === 0)).toBe(true);
  expect([...tierOf.slice(75)].every((t) => t === 3)).toBe(true);
  expect(bounds).toEqual([1025, 1050, 1075, 1099]);
});
