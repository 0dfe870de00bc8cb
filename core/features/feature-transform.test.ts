import { test, expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { loadConfigFile } from '../config/load-config.js';
import { fitFeatureTransform, compileFeatureTransform, categoryTails, MAX_CATEGORIES } from './feature-transform.js';
import { featureTransformSchema } from './feature-transform-schema.js';
import { validateProperty } from '../schema/row-validator.js';

const kc = loadConfigFile(fileURLToPath(new URL('../../config/king-county.yaml', import.meta.url))).config;
const freq = {
  zipcode: [
    { value: '98103', count: 600 },
    { value: '98001', count: 300 },
    { value: '98178', count: 300 },
  ],
};

const house = {
  id: '7129300520',
  date: '10/13/2014',
  price: '221900.0',
  bedrooms: '3',
  bathrooms: '1.0',
  sqft_living: '1180',
  sqft_lot: '5650',
  floors: '1.0',
  waterfront: '',
  view: '0.0',
  condition: '3',
  grade: '7',
  sqft_above: '1180',
  sqft_basement: '0.0',
  yr_built: '1955',
  yr_renovated: '0.0',
  zipcode: '98178',
  lat: '47.5112',
  long: '-122.257',
  sqft_living15: '1340',
  sqft_lot15: '5650',
};

test('fitting is deterministic: vocabularies by frequency then value, and the hash identifies the definition', () => {
  const a = fitFeatureTransform(kc, freq);
  const b = fitFeatureTransform(kc, { zipcode: [...freq.zipcode].reverse() });
  expect(a.vocabularies.zipcode).toEqual(['98103', '98001', '98178']);
  expect(b.hash).toBe(a.hash);
  expect(fitFeatureTransform(kc, { zipcode: freq.zipcode.slice(0, 2) }).hash).not.toBe(a.hash);
});

test('a property becomes the documented feature vector, with derived features', () => {
  const t = compileFeatureTransform(fitFeatureTransform(kc, freq));
  const v = validateProperty(kc, house);
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  const { vector, warnings } = t.fromRecord(v.values);
  const f = (name: string) => vector[t.names.indexOf(name)];
  expect(f('date')).toBe(285); // days from 2014-01-01 to 2014-10-13
  expect(f('zipcode')).toBe(2);
  expect(f('grade')).toBe(6); // level index of "7" in 1..13
  expect(f('view')).toBe(0);
  expect(Number.isNaN(f('waterfront'))).toBe(true);
  expect(f('age_at_sale')).toBeCloseTo(2014 + 285 / 365 - 1955, 4);
  expect(f('years_since_renovation')).toBeCloseTo(f('age_at_sale'), 5); // never renovated → since built
  expect(f('sale_month')).toBe(9);
  expect(warnings).toEqual(['waterfront is missing; the model uses what it learned for missing values']);
  expect(t.kinds[t.names.indexOf('zipcode')]).toBe('categorical');
  expect(t.categoryCounts[t.names.indexOf('zipcode')]).toBe(3);
});

test('an unseen category is unknown (NaN) with a warning, never a guessed code', () => {
  const t = compileFeatureTransform(fitFeatureTransform(kc, freq));
  const v = validateProperty(kc, { ...house, zipcode: '98999' });
  if (!v.ok) throw new Error('invalid');
  const { vector, warnings } = t.fromRecord(v.values);
  expect(Number.isNaN(vector[t.names.indexOf('zipcode')])).toBe(true);
  expect(warnings).toContain('zipcode "98999" was not seen in training; the model treats it as unknown');
});

test('vocabularies are capped so every code fits a histogram bin', () => {
  const many = Array.from({ length: 400 }, (_, i) => ({ value: `z${i}`, count: 1000 - i }));
  expect(fitFeatureTransform(kc, { zipcode: many }).vocabularies.zipcode).toHaveLength(MAX_CATEGORIES);
});

test('target transform and its inverse', () => {
  const t = compileFeatureTransform(fitFeatureTransform(kc, freq));
  expect(t.inverseTarget(t.target(450000))).toBeCloseTo(450000, 6);
});

test('field-by-field errors for bad property input', () => {
  const v = validateProperty(kc, { ...house, sqft_living: '-20', bedrooms: 'three', grade: '14', zipcode: '', colour: 'red', lat: Number.NaN });
  expect(v.ok).toBe(false);
  if (v.ok) return;
  expect(v.errors.map((e) => e.field).sort()).toEqual(['bedrooms', 'colour', 'grade', 'lat', 'sqft_living', 'zipcode']);
  expect(v.errors.find((e) => e.field === 'sqft_living')!.message).toBe('sqft_living: -20 is out of range [100, 100000]');
  expect(v.errors.find((e) => e.field === 'zipcode')!.message).toBe('zipcode: value is required');
});

test('levels sold once and levels beyond the cap share the "other (rare)" code; unseen values stay unknown (NaN)', () => {
  const many = [
    ...Array.from({ length: 300 }, (_, i) => ({ value: `z${String(i).padStart(3, '0')}`, count: 1000 - i })),
    { value: 'once-a', count: 1 },
    { value: 'once-b', count: 1 },
  ];
  const fitted = fitFeatureTransform(kc, { zipcode: many });
  expect(fitted.version).toBe('appraise-features/2');
  expect(fitted.vocabularies.zipcode).toHaveLength(MAX_CATEGORIES);
  expect(fitted.rare?.zipcode.levels).toHaveLength(300 - MAX_CATEGORIES + 2);
  expect(fitted.rare?.zipcode.rows).toBe(many.slice(MAX_CATEGORIES).reduce((a, x) => a + x.count, 0));
  const t = compileFeatureTransform(fitted);
  const z = t.names.indexOf('zipcode');
  expect(t.categoryCounts[z]).toBe(MAX_CATEGORIES + 1);
  const code = (zipcode: string) => {
    const v = validateProperty(kc, { ...house, zipcode });
    if (!v.ok) throw new Error('invalid');
    return t.fromRecord(v.values);
  };
  expect(code('z000').vector[z]).toBe(0);
  expect(code('z253').vector[z]).toBe(253);
  // Beyond the cap, and sold once: both known, both the rare code.
  expect(code('z254').vector[z]).toBe(MAX_CATEGORIES);
  expect(code('once-b').vector[z]).toBe(MAX_CATEGORIES);
  expect(code('once-a').warnings).toContain('zipcode "once-a" is rare in training; the model values it together with the other rare zipcode values');
  const unseen = code('never-sold');
  expect(Number.isNaN(unseen.vector[z])).toBe(true);
  expect(unseen.warnings).toContain('zipcode "never-sold" was not seen in training; the model treats it as unknown');
  expect(categoryTails(fitted)).toEqual([
    expect.objectContaining({ column: 'zipcode', levels: 302, kept: MAX_CATEGORIES, rareLevels: 48, rareExamples: ['z254', 'z255', 'z256', 'z257', 'z258'] }),
  ]);
});

test('importing a model keeps one code per listed level (no pooled code its trees would not know)', () => {
  const fitted = fitFeatureTransform(kc, { zipcode: [...freq.zipcode, { value: 'once', count: 1 }] }, { poolRareCategories: false });
  expect(fitted.version).toBe('appraise-features/1');
  expect(fitted.rare).toBeUndefined();
  expect(fitted.vocabularies.zipcode).toEqual(['98103', '98001', '98178', 'once']);
});

test('a definition stored by an earlier version still loads, codes the same and refits to the very same hash', () => {
  const manifest = JSON.parse(readFileSync(fileURLToPath(new URL('../../models/king-county/manifest.json', import.meta.url)), 'utf8'));
  const stored = featureTransformSchema.parse(manifest.featureTransform);
  expect(stored.version).toBe('appraise-features/1');
  expect(stored.rare).toBeUndefined();
  const t = compileFeatureTransform(stored);
  const z = t.names.indexOf('zipcode');
  const vocabulary = stored.vocabularies.zipcode;
  expect(t.categoryCounts[z]).toBe(vocabulary.length);
  const v = validateProperty(kc, { ...house, zipcode: vocabulary[vocabulary.length - 1] });
  if (!v.ok) throw new Error('invalid');
  expect(t.fromRecord(v.values).vector[z]).toBe(vocabulary.length - 1);
  // Every KC zipcode has many sales, so nothing is pooled and today's fit writes the same definition.
  const refit = fitFeatureTransform(manifest.datasetConfig, { zipcode: vocabulary.map((value, i) => ({ value, count: 1000 - i })) });
  expect(refit.version).toBe('appraise-features/1');
  expect(refit.hash).toBe(stored.hash);
});
