import type { FormField, FormSchema } from '../../../../core/contract/contract.js';
import type { PropertyFormState } from './use-property-form.js';
import { isNumericField, typicalValues, type TypicalSale } from './property-values.js';
import { useMoney } from '../../app-context.js';

/**
 * The property's fields (from the dataset's schema) and the valuation date; submitting values the property.
 * "Typical values" are one real sale of the data (its medoid), never a mix of per-field medians, and the form
 * says which sale it is.
 */
export function PropertyForm({
  form,
  state,
  busy,
  onSubmit,
  typical,
  findingTypical = false,
}: {
  form: FormSchema;
  state: PropertyFormState;
  busy: boolean;
  onSubmit: () => void;
  typical?: TypicalSale | null;
  /** The typical sale is still being looked up: the fields do not hold one house yet. */
  findingTypical?: boolean;
}) {
  const money = useMoney();
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
        <button type="submit" disabled={busy || hasErrors || findingTypical} data-testid="value-submit">
          {busy ? 'Valuing…' : findingTypical ? 'Finding a typical sale…' : 'Value this property'}
        </button>
        <button type="button" className="secondary" onClick={() => (typical ? state.setValues(typicalValues(form, typical)) : state.resetValues())}>
          Reset to typical values
        </button>
        {hasErrors && <span className="field-error">Fix the highlighted fields first.</span>}
      </div>
      {typical && (
        <p className="muted small" data-testid="typical-note">
          Typical values are one real sale{typical.saleId ? ` (${typical.saleId}` : ' ('}
          {typical.saleDate ? `, sold ${typical.saleDate}` : ''}
          {typical.price !== null ? ` for ${money.format(typical.price)}` : ''}): the sale closest to the rest of the data on every field, never a mix of
          separate averages.
        </p>
      )}
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
