import { useState } from 'react';
import { api } from '../../api-client.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import type { ReportSettings, ReportTexts } from './report-settings.js';

const textsOf = (s: ReportTexts): ReportTexts => ({
  assumptions: s.assumptions,
  certification: s.certification,
  roundTo: s.roundTo,
  appraiserName: s.appraiserName,
  appraiserLicence: s.appraiserLicence,
});

/** The report's texts, rounding and appraiser defaults, edited once and kept in the workspace for every report. */
export function ReportSettingsPanel({
  settings,
  onChange,
  configRoundTo,
}: {
  settings: ReportSettings;
  onChange: (s: ReportSettings) => void;
  configRoundTo: number;
}) {
  const [draft, setDraft] = useState<ReportTexts>(() => textsOf(settings));
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const edit = (patch: Partial<ReportTexts>) => {
    setDraft({ ...draft, ...patch });
    setSaved(false);
  };
  const save = async (s: ReportTexts) => {
    setBusy(true);
    setError(null);
    try {
      const stored = await api.call('settings.setReport', s);
      onChange(stored);
      setDraft(textsOf(stored));
      setSaved(true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const textField = (name: 'appraiserName' | 'appraiserLicence', label: string) => (
    <label className="field">
      <span>{label}</span>
      <input name={name} value={draft[name]} onChange={(e) => edit({ [name]: e.target.value })} />
    </label>
  );
  return (
    <div className="card report-settings">
      <h2>Report settings</h2>
      <p className="muted">
        {settings.updatedAt
          ? `Last changed ${settings.updatedAt.slice(0, 16).replace('T', ' ')} by ${settings.updatedBy ?? 'unknown'}.`
          : 'The defaults: never changed in this workspace.'}
      </p>
      <div className="fields">
        <label className="field">
          <span>Round estimates to the nearest</span>
          <input
            name="roundTo"
            inputMode="numeric"
            value={draft.roundTo === null ? '' : String(draft.roundTo)}
            placeholder={String(configRoundTo)}
            onChange={(e) => {
              const n = Number(e.target.value);
              edit({ roundTo: e.target.value.trim() === '' || !(n > 0) ? null : n });
            }}
          />
        </label>
        {textField('appraiserName', 'Appraiser (when a valuation names none)')}
        {textField('appraiserLicence', 'Licence')}
        <label className="field grow">
          <span>Assumptions and limiting conditions (one per line)</span>
          <textarea name="assumptions" rows={6} value={draft.assumptions} onChange={(e) => edit({ assumptions: e.target.value })} />
        </label>
        <label className="field grow">
          <span>Certification (printed above the signature line)</span>
          <textarea name="certification" rows={5} value={draft.certification} onChange={(e) => edit({ certification: e.target.value })} />
        </label>
      </div>
      {error !== null && <ErrorBanner error={error} onDismiss={() => setError(null)} />}
      <div className="actions">
        <button type="button" disabled={busy} onClick={() => void save(draft)}>
          Save report settings
        </button>
        <button
          type="button"
          className="secondary"
          disabled={busy}
          onClick={() => void save({ ...settings.defaults, appraiserName: draft.appraiserName, appraiserLicence: draft.appraiserLicence })}
        >
          Texts back to the defaults
        </button>
        {saved && <span role="status">Saved in the workspace.</span>}
      </div>
    </div>
  );
}
