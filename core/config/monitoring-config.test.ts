import { test, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseConfig } from './load-config.js';
import { defaultMonitoringConfig } from './monitoring-config.schema.js';
import type { AppraiseError } from '../common/errors.js';

const kcYaml = readFileSync(new URL('../../config/king-county.yaml', import.meta.url), 'utf8');

test('a config without a monitoring section keeps its hash: the section is absent, not defaulted', () => {
  const plain = parseConfig(kcYaml);
  expect('monitoring' in plain.config).toBe(false);
  const withSection = parseConfig(`${kcYaml}\nmonitoring: {}\n`);
  expect(withSection.hash).not.toBe(plain.hash);
  expect(withSection.config.monitoring).toEqual(defaultMonitoringConfig());
});

test('the defaults are the documented ones', () => {
  const d = defaultMonitoringConfig();
  expect(d.drift.psi).toEqual({ warn: 0.1, alert: 0.25 });
  expect(d.drift.datasetShare).toBe(0.5);
  expect(d.accuracy).toMatchObject({ medianRatio: { low: 0.9, high: 1.1 }, codMax: 15, prd: { low: 0.98, high: 1.03 }, prbMax: 0.05 });
});

test('bad thresholds are an INVALID_CONFIG error that names the key', () => {
  const bad = () => parseConfig(`${kcYaml}\nmonitoring:\n  drift:\n    psi: { warn: 0.3, alert: 0.1 }\n    psii: 1\n`);
  expect(bad).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }) as AppraiseError);
  try {
    bad();
  } catch (e) {
    expect((e as Error).message).toMatch(/psii/);
  }
});

const RETRAINING_YAML_HASH = 'a6964ad95b7004d09e130744c11400c5c67d519413b9f812b57017569b0e0c93';

/** A config with a retraining section as written before cooldownDays, everyNewSales and windowMonths existed. */
const retrainingYaml = `version: 1
name: t
dataset:
  columns:
    id: { type: identifier }
    date: { type: date, format: YYYY-MM-DD }
    price: { type: numeric, required: true }
    sqft: { type: numeric }
features:
  saleDate: date
target: { column: price }
monitoring:
  retraining:
    minNewSales: 50
    promote: auto
`;

test('the retraining policy keys added later (cooldown, new-sales trigger, data window) leave existing configs their hash', () => {
  const c = parseConfig(retrainingYaml);
  // Computed once from this YAML by the schema before the keys existed (git 8b92b71); a default added to the schema would change it.
  expect(c.hash).toBe(RETRAINING_YAML_HASH);
  const retraining = c.config.monitoring!.retraining;
  for (const key of ['cooldownDays', 'everyNewSales', 'windowMonths']) expect(key in retraining).toBe(false);
  expect(Object.keys(defaultMonitoringConfig().retraining)).not.toContain('cooldownDays');
  // Given, they are part of the hash (they change what retraining does) and read back as written.
  const set = parseConfig(`${retrainingYaml}    cooldownDays: 3\n    everyNewSales: 120\n    windowMonths: 6\n`);
  expect(set.hash).not.toBe(c.hash);
  expect(set.config.monitoring!.retraining).toMatchObject({ cooldownDays: 3, everyNewSales: 120, windowMonths: 6 });
  expect(() => parseConfig(`${retrainingYaml}    windowMonths: 0\n`)).toThrow(/windowMonths/);
  expect(() => parseConfig(`${retrainingYaml}    cooldownDays: -1\n`)).toThrow(/cooldownDays/);
});
