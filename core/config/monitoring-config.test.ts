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
