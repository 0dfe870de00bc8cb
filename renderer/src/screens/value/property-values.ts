import type { FormField, FormSchema, MethodOutput } from '../../../../core/contract/contract.js';

export type TypicalSale = MethodOutput<'valuation.typical'>;

/** Field name → the text in the field, as typed. */
export type PropertyValues = Record<string, string>;

export const isNumericField = (f: FormField): boolean => ['numeric', 'integer', 'latitude', 'longitude'].includes(f.type);

/** The form's typical values (the training data's medians and most frequent categories). */
export function defaultValues(form: FormSchema): PropertyValues {
  return Object.fromEntries(form.fields.map((f) => [f.name, f.default === null ? '' : String(f.default)]));
}

/** The valuation date a new form starts with: the data's latest sale, else today. */
export function defaultValuationDate(form: FormSchema): string {
  return form.defaultValuationDate ?? new Date().toISOString().slice(0, 10);
}

/** Form values as the API takes them: numbers as numbers, empty fields left out. */
export function toPropertyInput(form: FormSchema, values: PropertyValues): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const f of form.fields) {
    const raw = (values[f.name] ?? '').trim();
    if (raw === '') continue;
    out[f.name] = isNumericField(f) && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return out;
}

/** The typical sale's values as the form's text; fields the sale has no value for keep their default. */
export function typicalValues(form: FormSchema, t: TypicalSale): PropertyValues {
  const out = defaultValues(form);
  for (const f of form.fields) {
    const v = t.values[f.name];
    if (v !== null && v !== undefined && v !== '') out[f.name] = String(v);
  }
  return out;
}

/** True while the fields still hold the form's starting values (nothing typed yet). */
export function untouched(form: FormSchema, values: PropertyValues): boolean {
  const d = defaultValues(form);
  return form.fields.every((f) => (values[f.name] ?? '') === d[f.name]);
}
