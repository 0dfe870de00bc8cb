import { useState } from 'react';
import { DEFAULT_REPORT_SETTINGS, saveReportSettings, type ReportSettings } from './report-settings.js';

/** The report's texts and rounding, edited once and kept for every report made in this window. */
export function ReportSettingsPanel({
  settings,
  onChange,
  configRoundTo,
}: {
  settings: ReportSettings;
  onChange: (s: ReportSettings) => void;
  configRoundTo: number;
}) {
  const [draft, setDraft] = useState(settings);
  const [saved, setSaved] = useState(false);
  const save = (s: ReportSettings) => {
    saveReportSettings(s);
    onChange(s);
    setDraft(s);
    setSaved(true);
  };
  return (
    <details className="card report-settings">
      <summary>Report settings</summary>
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
              setDraft({ ...draft, roundTo: e.target.value.trim() === '' || !(n > 0) ? null : n });
              setSaved(false);
            }}
          />
        </label>
        <label className="field grow">
          <span>Assumptions and limiting conditions (one per line)</span>
          <textarea
            name="assumptions"
            rows={6}
            value={draft.assumptions}
            onChange={(e) => {
              setDraft({ ...draft, assumptions: e.target.value });
              setSaved(false);
            }}
          />
        </label>
        <label className="field grow">
          <span>Certification (printed above the signature line)</span>
          <textarea
            name="certification"
            rows={5}
            value={draft.certification}
            onChange={(e) => {
              setDraft({ ...draft, certification: e.target.value });
              setSaved(false);
            }}
          />
        </label>
      </div>
      <div className="actions">
        <button type="button" onClick={() => save(draft)}>
          Save report settings
        </button>
        <button type="button" className="secondary" onClick={() => save(DEFAULT_REPORT_SETTINGS)}>
          Back to the defaults
        </button>
        {saved && <span role="status">Saved.</span>}
      </div>
    </details>
  );
}
