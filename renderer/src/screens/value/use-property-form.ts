import { useCallback, useEffect, useMemo, useState } from 'react';
import type { ApiValuation, FormSchema } from '../../../../core/contract/contract.js';
import { useApp, type ValuationDraft } from '../../app-context.js';
import { api } from '../../api-client.js';
import { defaultValuationDate, defaultValues, toPropertyInput, type PropertyValues } from './property-values.js';

const VALIDATE_DELAY_MS = 200;

export interface PropertyFormState {
  values: PropertyValues;
  valuationDate: string;
  /** The valuation shown next to the form (the last one made, or one opened from the history). */
  result: ApiValuation | null;
  /** Field name → what is wrong with its value, from core's validation as the user types. */
  fieldErrors: Record<string, string>;
  setField(name: string, value: string): void;
  setValuationDate(date: string): void;
  setResult(result: ApiValuation | null): void;
  /** Back to the form's typical values. */
  resetValues(): void;
  /** Replaces every field's text (the typical sale's values). */
  setValues(values: PropertyValues): void;
}

function freshDraft(form: FormSchema): ValuationDraft {
  return { datasetId: form.datasetId, values: defaultValues(form), valuationDate: defaultValuationDate(form), result: null };
}

/**
 * The valuation form's values and last result. They are kept in the app context, so they survive visiting
 * other screens; a form for another dataset (after a new import or champion) starts again from its defaults.
 */
export function usePropertyForm(form: FormSchema | null): PropertyFormState {
  const { valuationDraft, setValuationDraft } = useApp();
  const fresh = useMemo(() => (form ? freshDraft(form) : null), [form]);
  const draft = form && valuationDraft?.datasetId === form.datasetId ? valuationDraft : fresh;
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});

  const update = useCallback(
    (change: (draft: ValuationDraft) => Partial<Omit<ValuationDraft, 'datasetId'>>) => {
      if (!form) return;
      setValuationDraft((prev) => {
        const base = prev?.datasetId === form.datasetId ? prev : freshDraft(form);
        return { ...base, ...change(base) };
      });
    },
    [form, setValuationDraft],
  );

  const values = draft?.values;
  // Validate as you type: the same rules as ingest, checked by core after a short pause.
  useEffect(() => {
    if (!form || !values || Object.keys(values).length === 0) return;
    let current = true;
    const timer = setTimeout(() => {
      api.call('form.validate', { input: toPropertyInput(form, values) }).then(
        (r) => current && setFieldErrors(Object.fromEntries(r.errors.map((e) => [e.field, e.message]))),
        () => undefined,
      );
    }, VALIDATE_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [form, values]);

  return {
    values: values ?? {},
    valuationDate: draft?.valuationDate ?? '',
    result: draft?.result ?? null,
    fieldErrors,
    setField: (name, value) => update((d) => ({ values: { ...d.values, [name]: value } })),
    setValuationDate: (valuationDate) => update(() => ({ valuationDate })),
    setResult: (result) => update(() => ({ result })),
    resetValues: () => update(() => ({ values: form ? defaultValues(form) : {} })),
    setValues: (next) => update(() => ({ values: next })),
  };
}
