import type { FormField, FormSchema } from '../../../../core/contract/contract.js';
import type { PropertyFormState } from './use-property-form.js';
import { isNumericField } from './property-values.js';

/** The property's fields (from the dataset's schema) and the valuation date; submitting values the property. */
export function PropertyForm({ form, state, busy, onSubmit }: { form: FormSchema; state: PropertyFormState; busy: boolean; onSubmit: () => void }) {
  const hasErrors = Object.keys(state.fieldErrors).length > 0;
  return (
    <form
      className="card property-form"
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
      aria-label="Property"
    >
      <div className="fields">
        {form.fields.map((f) => (
          <Field key={f.name} field={f} value={state.values[f.name] ?? ''} error={state.fieldErrors[f.name]} onChange={(v) => state.setField(f.name, v)} />
        ))}
        <label className="field">
          <span>Valuation date</span>
          <input type="date" name="valuationDate" value={state.valuationDate} onChange={(e) => state.setValuationDate(e.target.value)} required />
        </label>
      </div>
      <div className="actions">
        <button type="submit" disabled={busy || hasErrors} data-testid="value-submit">
          {busy ? 'Valuing…' : 'Value this property'}
        </button>
        <button type="button" className="secondary" onClick={state.resetValues}>
          Reset to typical values
        </button>
        {hasErrors && <span className="field-error">Fix the highlighted fields first.</span>}
      </div>
    </form>
  );
}

/** One field: a closed list as a select, known values as suggestions, else a text or number input. */
function Field({ field: f, value, error, onChange }: { field: FormField; value: string; error?: string; onChange: (v: string) => void }) {
  const id = `f-${f.name}`;
  const errId = `${id}-err`;
  const common = { id, name: f.name, value, 'aria-invalid': Boolean(error), 'aria-describedby': error ? errId : undefined };
  let control: React.ReactNode;
  if (f.closed && f.options) {
    control = (
      <select {...common} onChange={(e) => onChange(e.target.value)}>
        {!f.required && <option value="">—</option>}
        {f.options.map((o) => (
          <option key={o} value={o}>
            {f.optionLabels?.[o] ?? (f.type === 'boolean' ? (o === f.options![1] ? 'Yes' : 'No') : o)}
          </option>
        ))}
      </select>
    );
  } else if (f.options) {
    control = (
      <>
        <input {...common} list={`${id}-list`} onChange={(e) => onChange(e.target.value)} autoComplete="off" />
        <datalist id={`${id}-list`}>
          {f.options.map((o) => (
            <option key={o} value={o} />
          ))}
        </datalist>
      </>
    );
  } else {
    const numeric = isNumericField(f);
    control = (
      <input
        {...common}
        inputMode={numeric ? 'decimal' : undefined}
        placeholder={f.type === 'date' ? (f.unit ?? '') : numeric && f.min !== null && f.max !== null ? `${f.min} – ${f.max}` : ''}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  }
  return (
    <div className={error ? 'field invalid' : 'field'}>
      <label htmlFor={id}>
        {f.label}
        {f.required && <span aria-hidden="true"> *</span>}
        {f.unit && f.type !== 'date' && <span className="unit"> ({f.unit})</span>}
        {f.zeroMeans && <span className="unit"> (0 = {f.zeroMeans})</span>}
      </label>
      {control}
      {error && (
        <span className="field-error" id={errId}>
          {error}
        </span>
      )}
    </div>
  );
}
