import { expect, test } from 'vitest';
import { cooldownEnd, retrainingPolicyOf, windowStart } from './retraining-policy.js';
import { defaultMonitoringConfig, monitoringConfigSchema } from '../config/monitoring-config.schema.js';

test('the data window starts the same day N months before the newest sale, clamped to the end of a shorter month', () => {
  expect(windowStart('2015-02-27', 2)).toBe('2014-12-27');
  expect(windowStart('2015-05-15', 12)).toBe('2014-05-15');
  expect(windowStart('2015-03-31', 1)).toBe('2015-02-28');
  expect(windowStart('2016-03-31', 1)).toBe('2016-02-29');
  expect(windowStart('2015-01-10T12:00:00Z', 1)).toBe('2014-12-10');
});

test('the cooldown ends whole days after the run that trained, and the undefaulted keys get their defaults in code', () => {
  expect(cooldownEnd('2026-01-01T10:00:00.000Z', 7)).toBe('2026-01-08T10:00:00.000Z');
  expect(cooldownEnd('2026-01-01T10:00:00.000Z', 0.5)).toBe('2026-01-01T22:00:00.000Z');
  expect(retrainingPolicyOf(defaultMonitoringConfig())).toEqual({ cooldownDays: 7, everyNewSales: null, windowMonths: null });
  const set = monitoringConfigSchema.parse({ retraining: { cooldownDays: 0, everyNewSales: 50, windowMonths: 6 } });
  expect(retrainingPolicyOf(set)).toEqual({ cooldownDays: 0, everyNewSales: 50, windowMonths: 6 });
});
