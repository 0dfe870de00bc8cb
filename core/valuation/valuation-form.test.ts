import { describe, expect, it } from 'vitest';
import { buildFormSchema } from './valuation-form.js';
import type { DatasetVersion } from '../datasets/dataset-store.js';
import { kcConfig } from '../../test/helpers/temp-workspace.js';

/** A dataset version as the store returns it, without a quality profile (no defaults from data). */
function kcDataset(): DatasetVersion {
  const { config, hash } = kcConfig();
  return {
    id: 'd'.repeat(64),
    name: 'king-county',
    tableName: 'ds_test',
    configName: config.name,
    configHash: hash,
    config,
    columns: [],
    rowCount: 0,
    sourcePath: null,
    parentId: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    quality: null,
  };
}

describe('the valuation form says what the config says about each feature', () => {
  const form = buildFormSchema(kcDataset());
  const field = (name: string) => form.fields.find((f) => f.name === name)!;

  it('names ordinal levels and writes booleans as Yes/No', () => {
    expect(field('grade').optionLabels?.['7']).toBe('7 — Average');
    expect(field('grade').optionLabels?.['13']).toBe('13 — Mansion');
    expect(field('condition').optionLabels?.['1']).toBe('1 — Poor');
    expect(field('view').optionLabels?.['0']).toBe('0 — None');
    expect(field('waterfront').optionLabels).toEqual({ '0': 'No', '1': 'Yes' });
    // A column without display keys gets none.
    expect(field('bedrooms').optionLabels).toBeUndefined();
    expect(field('bedrooms').display).toBeUndefined();
  });

  it('marks years and what 0 means', () => {
    expect(field('yr_built').display).toBe('year');
    expect(field('yr_renovated')).toMatchObject({ display: 'year', zeroMeans: 'never' });
  });

  it('labels derived features and the sale date, which have no field', () => {
    expect(form.features?.age_at_sale).toEqual({ label: 'Age at sale', unit: 'years' });
    expect(form.features?.sale_month).toEqual({ label: 'Market time', unit: 'months since Jan 2014' });
    expect(form.features?.date.label).toBe('Sale date');
    expect(form.features?.sqft_living).toEqual({ label: 'Living area', unit: 'sqft' });
  });

  it('says derived features in words from their kind when the config gives no label', () => {
    const ds = kcDataset();
    ds.config.features.derived = ds.config.features.derived.map(({ label: _l, unit: _u, ...d }) => d);
    const plain = buildFormSchema(ds);
    expect(plain.features?.age_at_sale).toEqual({ label: 'Years from year built to sale date', unit: 'years' });
    expect(plain.features?.years_since_renovation.label).toBe('Years since year renovated');
    expect(plain.features?.sale_month).toEqual({ label: 'Months since 2014-01', unit: 'months' });
  });

  it('rounds estimates to the nearest 1000 unless the config says otherwise', () => {
    expect(form.roundTo).toBe(1000);
    const ds = kcDataset();
    ds.config.target.roundTo = 5000;
    expect(buildFormSchema(ds).roundTo).toBe(5000);
  });
});
