import type { FormField, FormSchema } from '../../core/contract/contract.js';
import { fmtNum } from './format.js';

/**
 * How feature values are written for people: level names ("7 — Average"), Yes/No for booleans, what 0 means
 * where the config says so ("never"), years without thousands separators (1951) and units ("2,570 sqft"). The
 * labels and names come from the active dataset's config through the form schema; nothing is guessed from
 * column names.
 */

type Shown = string | number | boolean | null | undefined;
const NUMERIC_TYPES = new Set(['numeric', 'integer', 'latitude', 'longitude', 'ordinal']);
const NUMBER = /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** A value of a form field as shown: its option label, "never" for 0 where configured, a year, or a number. */
export function fieldValueText(field: FormField | undefined, value: Shown, options: { unit?: boolean } = {}): string {
  if (value === null || value === undefined || value === '') return '—';
  const key = typeof value === 'number' ? String(value) : String(value).trim();
  // Stored ordinal values may be "3.0" where the level is written 3.
  const asNumber = Number(key);
  const normalized = key !== '' && Number.isFinite(asNumber) ? String(asNumber) : key;
  const named = field?.optionLabels?.[key] ?? field?.optionLabels?.[normalized];
  if (named !== undefined) return named;
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  // Codes (a ZIP code, a category) and dates are text, never "98,103".
  const numeric = field ? NUMERIC_TYPES.has(field.type) && (typeof value === 'number' || NUMBER.test(key)) : typeof value === 'number';
  if (!numeric) return String(value);
  if (field?.zeroMeans && asNumber === 0) return field.zeroMeans;
  if (field?.display === 'year') return String(Math.round(asNumber));
  const text = fmtNum(asNumber);
  return options.unit && field?.unit && field.type !== 'date' ? `${text} ${field.unit}` : text;
}

/** A feature's label: the field's, else the form's feature labels (derived features, the sale date), else its name. */
export function featureLabel(form: FormSchema | null | undefined, feature: string): string {
  return form?.fields.find((f) => f.name === feature)?.label ?? form?.features?.[feature]?.label ?? feature;
}

/** A feature's value as shown, with its unit for derived features ("40.4 years"); fields as `fieldValueText`. */
export function featureValueText(form: FormSchema | null | undefined, feature: string, value: Shown): string {
  const field = form?.fields.find((f) => f.name === feature);
  if (field) return fieldValueText(field, value);
  const unit = form?.features?.[feature]?.unit ?? null;
  if (typeof value === 'number') return unit ? `${fmtNum(value)} ${unit}` : fmtNum(value);
  return value === null || value === undefined || value === '' ? '—' : String(value);
}

/** An estimate rounded as appraisers round: to the form's `roundTo` (default 1000) currency units. */
export function roundEstimate(value: number, form?: Pick<FormSchema, 'roundTo'> | null): number {
  const step = form?.roundTo && form.roundTo > 0 ? form.roundTo : 1000;
  return Math.round(value / step) * step;
}
