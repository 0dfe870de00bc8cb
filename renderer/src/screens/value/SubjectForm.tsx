import type { ApiValuation } from '../../../../core/contract/contract.js';

export type SubjectIdentity = NonNullable<ApiValuation['subject']>;

const FIELDS: { key: Exclude<keyof SubjectIdentity, 'notes'>; label: string; type?: string; wide?: boolean }[] = [
  { key: 'address', label: 'Address', wide: true },
  { key: 'parcelId', label: 'Parcel id' },
  { key: 'effectiveDate', label: 'Effective date', type: 'date' },
  { key: 'client', label: 'Client' },
  { key: 'intendedUse', label: 'Intended use', wide: true },
  { key: 'appraiserName', label: 'Appraiser' },
  { key: 'appraiserLicence', label: 'Licence' },
];

/**
 * Who the valuation is about and for: saved with the valuation and printed on the report. The effective date
 * (the date the value is given as of) starts as the valuation date; the report date is the day it is printed.
 */
export function SubjectForm({
  subject,
  valuationDate,
  onChange,
}: {
  subject: SubjectIdentity;
  valuationDate: string | null;
  onChange: (s: SubjectIdentity) => void;
}) {
  const set = (key: keyof SubjectIdentity, value: string) => onChange({ ...subject, [key]: value });
  return (
    <details className="card subject-form" open>
      <summary>
        <h2 className="inline">Subject and assignment</h2>
      </summary>
      <div className="fields">
        {FIELDS.map((f) => (
          <label key={f.key} className={f.wide ? 'field grow' : 'field'}>
            <span>{f.label}</span>
            <input
              name={`subject-${f.key}`}
              type={f.type ?? 'text'}
              value={subject[f.key] ?? (f.key === 'effectiveDate' ? (valuationDate ?? '') : '')}
              onChange={(e) => set(f.key, e.target.value)}
              data-testid={`subject-${f.key}`}
            />
          </label>
        ))}
        <label className="field grow">
          <span>Notes</span>
          <textarea name="subject-notes" rows={3} value={subject.notes ?? ''} onChange={(e) => set('notes', e.target.value)} data-testid="subject-notes" />
        </label>
      </div>
      <p className="muted small">Saved with the valuation and printed on the report.</p>
    </details>
  );
}

/** The identity as saved: empty fields left out, the effective date defaulting to the valuation date. */
export function savedSubject(subject: SubjectIdentity, valuationDate: string | null): SubjectIdentity {
  const out: SubjectIdentity = {};
  for (const [k, val] of Object.entries(subject) as [keyof SubjectIdentity, string | undefined][]) if (val && val.trim()) out[k] = val.trim();
  if (!out.effectiveDate && valuationDate) out.effectiveDate = valuationDate;
  return out;
}
