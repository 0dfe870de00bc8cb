import { test, expect } from 'vitest';
import { accuracyMetrics } from './accuracy-metrics.js';
import type { AppraiseError } from '../common/errors.js';

test('sales with a price of 0 count in RMSE and MAE but not in the percentage errors and sales ratios', () => {
  // Worked by hand: actual 100, 200, 0; estimate 110, 180, 20.
  const actual = [100, 200, 0];
  const estimate = [110, 180, 20];
  const m = accuracyMetrics(actual, estimate, actual, estimate);
  expect(m.n).toBe(3);
  expect(m.mae).toBeCloseTo((10 + 20 + 20) / 3, 12);
  expect(m.rmse).toBeCloseTo(Math.sqrt((100 + 400 + 400) / 3), 12);
  // Only the two positive sales: errors 10 % and 10 %, ratios 1.1 and 0.9.
  expect(m.mape).toBeCloseTo(0.1, 12);
  expect(m.within10).toBe(1);
  expect(m.within5).toBe(0);
  expect(m.medianRatio).toBeCloseTo(1.0, 12);
  expect(m.cod).toBeCloseTo(10, 9); // mean |ratio − 1| = 0.1 → 10 %
  expect(m.prd).toBeCloseTo(1 / (290 / 300), 12);
  for (const v of Object.values(m)) expect(Number.isFinite(v)).toBe(true);
});

test('without any positive price there are no ratios to report: a typed error, not Infinity', () => {
  let error: unknown;
  try {
    accuracyMetrics([0, 0], [1, 2], [0, 0], [1, 2]);
  } catch (e) {
    error = e;
  }
  expect((error as AppraiseError).code).toBe('INVALID_INPUT');
  expect((error as AppraiseError).message).toContain('no sale has a price above 0');
});
