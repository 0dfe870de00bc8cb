import { describe, expect, it } from 'vitest';
import type { FormField, FormSchema } from '../../core/contract/contract.js';
import { featureLabel, featureValueText, fieldValueText, roundEstimate } from './feature-format.js';

const field = (over: Partial<FormField>): FormField => ({
  name: 'x',
  type: 'numeric',
  label: 'X',
  unit: null,
  required: false,
  min: null,
  max: null,
  options: null,
  closed: false,
  default: null,
  ...over,
});

const grade = field({
  name: 'grade',
  type: 'ordinal',
  label: 'County building grade',
  options: ['6', '7'],
  optionLabels: { '6': '6 — Low average', '7': '7 — Average' },
});
const yrRenovated = field({ name: 'yr_renovated', type: 'integer', label: 'Year renovated', display: 'year', zeroMeans: 'never' });
const form = {
  fields: [
    grade,
    yrRenovated,
    field({ name: 'yr_built', type: 'integer', label: 'Year built', display: 'year' }),
    field({ name: 'waterfront', type: 'boolean', label: 'Waterfront', options: ['0', '1'], optionLabels: { '0': 'No', '1': 'Yes' } }),
    field({ name: 'zipcode', type: 'categorical', label: 'ZIP code' }),
    field({ name: 'sqft_living', type: 'numeric', label: 'Living area', unit: 'sqft' }),
  ],
  features: { age_at_sale: { label: 'Age at sale', unit: 'years' }, date: { label: 'Sale date', unit: null } },
  roundTo: 1000,
} as unknown as FormSchema;

describe('feature values as people read them', () => {
  it('writes level names, Yes/No, "never" for 0 and years without separators', () => {
    expect(fieldValueText(grade, 7)).toBe('7 — Average');
    expect(fieldValueText(grade, '7.0')).toBe('7 — Average');
    expect(featureValueText(form, 'waterfront', 0)).toBe('No');
    expect(featureValueText(form, 'waterfront', '1')).toBe('Yes');
    expect(fieldValueText(yrRenovated, 0)).toBe('never');
    expect(fieldValueText(yrRenovated, 1991)).toBe('1991');
    expect(featureValueText(form, 'yr_built', 1900)).toBe('1900');
  });

  it('keeps codes as text and numbers in en-US with their unit on request', () => {
    expect(featureValueText(form, 'zipcode', '98103')).toBe('98103');
    expect(fieldValueText(form.fields[5], 2570)).toBe('2,570');
    expect(fieldValueText(form.fields[5], 2570, { unit: true })).toBe('2,570 sqft');
    expect(fieldValueText(form.fields[5], null)).toBe('—');
  });

  it('labels derived features with their unit, and falls back to the name only when nothing is known', () => {
    expect(featureLabel(form, 'age_at_sale')).toBe('Age at sale');
    expect(featureValueText(form, 'age_at_sale', 40.4)).toBe('40.4 years');
    expect(featureLabel(form, 'grade')).toBe('County building grade');
    expect(featureLabel(form, 'date')).toBe('Sale date');
    expect(featureLabel(form, 'unknown_feature')).toBe('unknown_feature');
  });

  it('rounds estimates as appraisers do', () => {
    expect(roundEstimate(667_657, form)).toBe(668_000);
    expect(roundEstimate(667_499, form)).toBe(667_000);
    expect(roundEstimate(667_657, { roundTo: 5000 })).toBe(670_000);
    expect(roundEstimate(667_657, null)).toBe(668_000);
  });
});
