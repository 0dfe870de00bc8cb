import { useEffect, useState } from 'react';
import { useApp } from '../app-context.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { ReportSettingsPanel } from './value/ReportSettingsPanel.js';
import type { ReportSettings } from './value/report-settings.js';
import { loadReportSettings } from './value/load-report-settings.js';

/** The workspace's settings: for now the report's texts, rounding and the appraiser's name and licence. */
export function SettingsScreen() {
  const { info } = useApp();
  const [settings, setSettings] = useState<ReportSettings | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    void loadReportSettings().then(setSettings, setError);
  }, []);
  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      <p className="muted">Kept in this workspace: every window and user of it prints the same report. Each change is recorded in the audit trail.</p>
      {error !== null && <ErrorBanner error={error} onDismiss={() => setError(null)} />}
      {settings ? (
        <ReportSettingsPanel settings={settings} onChange={setSettings} configRoundTo={info?.form?.roundTo ?? 1000} />
      ) : (
        error === null && <p className="muted">Reading the settings…</p>
      )}
    </section>
  );
}
