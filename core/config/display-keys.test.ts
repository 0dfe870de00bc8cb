import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseConfig } from './load-config.js';
import { kcConfigPath } from '../../test/helpers/temp-workspace.js';

/** Display-only keys stay out of the config hash; everything that changes how rows are read stays in it. */
describe('the config hash and display-only keys', () => {
  const yaml = readFileSync(kcConfigPath, 'utf8');
  const kc = parseConfig(yaml);
  // The King County config with every display-only key removed, as it was before they existed.
  const plain = yaml
    .replace(/,\s*levelLabels: \{[^}]*\}/g, '')
    .replace(/, gridGroup: \w+/g, '')
    .replace(/, display: year/g, '')
    .replace(/, zeroMeans: never/g, '')
    .replace(/,\s*label: [^,}]+, unit: [^,}]+/g, '');

  it('reads the display keys of the King County config', () => {
    expect(kc.config.dataset.columns.grade).toMatchObject({ levelLabels: { 7: 'Average', 13: 'Mansion' } });
    expect(kc.config.dataset.columns.yr_renovated).toMatchObject({ display: 'year', zeroMeans: 'never' });
    expect(kc.config.features.derived.map((d) => d.label)).toEqual(['Age at sale', 'Years since renovation (or built)', 'Market time']);
  });

  it('hashes the config with and without them the same', () => {
    expect(plain).not.toMatch(/levelLabels:/);
    expect(plain).not.toMatch(/zeroMeans:|display:|gridGroup:/);
    const without = parseConfig(plain);
    expect(without.config.features.derived.every((d) => d.label === undefined)).toBe(true);
    expect(without.hash).toBe(kc.hash);
    expect(parseConfig(yaml.replace('target:\n  column: price', 'target:\n  roundTo: 500\n  column: price')).hash).toBe(kc.hash);
  });

  it('still hashes what changes how rows are read, and rules', () => {
    expect(parseConfig(yaml.replace('levels: [0, 1, 2, 3, 4]', 'levels: [0, 1, 2, 3, 4, 5]')).hash).not.toBe(kc.hash);
    expect(parseConfig(yaml.replace('label: Parcel id', 'label: Parcel number')).hash).not.toBe(kc.hash);
    expect(parseConfig(`${yaml}\nrules:\n  - { name: above_within_living, check: sqft_above <= sqft_living }\n`).hash).not.toBe(kc.hash);
  });
});
