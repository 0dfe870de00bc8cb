import { useEffect, useState } from 'react';
import type { ApiValuation, FormSchema, HistoryEntry } from '../../../../core/contract/contract.js';
import { useApp, useMoney } from '../../app-context.js';
import { api } from '../../api-client.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { shortId } from '../../format.js';
import { toPropertyInput, typicalValues, untouched, type TypicalSale } from './property-values.js';
import { usePropertyForm } from './use-property-form.js';
import { PropertyForm } from './PropertyForm.js';
import { SavedValuations } from './SavedValuations.js';
import { ValuationResult } from './ValuationResult.js';
import { FirstRunCard } from './FirstRunCard.js';
import { featureLabel, fieldValueText, roundEstimate } from '../../feature-format.js';
import { GridPanel } from './GridPanel.js';
import { SubjectForm, savedSubject } from './SubjectForm.js';
import type { ReportSettings } from './report-settings.js';
import { loadReportSettings } from './load-report-settings.js';
import { gridComparables } from './grid-format.js';

/** Value one property: the form on the left, the valuation on the right, the saved valuations below. */
export function ValueScreen() {
  const { info } = useApp();
  const money = useMoney();
  const form = info?.form ?? null;
  const state = usePropertyForm(form);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [history, setHistory] = useState<HistoryEntry[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  // The workspace's report settings (edited on the Settings screen); null until read.
  const [settings, setSettings] = useState<ReportSettings | null>(null);
  const [typical, setTypical] = useState<TypicalSale | null>(null);

  useEffect(() => {
    void api.call('history.list', {}).then(setHistory, () => undefined);
    // Unreadable settings leave the config's rounding; the PDF then asks again and says why it cannot be made.
    void loadReportSettings().then(setSettings, () => undefined);
  }, []);

  // The form starts from one real sale (the medoid of the champion's data) once core has found it.
  const championId = info?.champion?.id ?? null;
  const datasetId = form?.datasetId ?? null;
  // Which dataset's typical sale has been asked for and answered (or failed): until then the form's values are
  // the per-field defaults, a mix that is not one house, so valuing waits the second it takes.
  const [typicalFor, setTypicalFor] = useState<string | null>(null);
  useEffect(() => {
    if (!championId || !datasetId) return;
    let current = true;
    void api.call('valuation.typical', {}).then(
      (t) => {
        if (!current) return;
        if (t.datasetId === datasetId) setTypical(t);
        setTypicalFor(datasetId);
      },
      // No typical sale (training data not here): the per-field defaults stay, and valuing goes ahead.
      () => current && setTypicalFor(datasetId),
    );
    return () => {
      current = false;
    };
  }, [championId, datasetId]);
  const findingTypical = championId !== null && datasetId !== null && typicalFor !== datasetId;
  const { values, setValues } = state;
  useEffect(() => {
    if (form && typical && typical.datasetId === form.datasetId && untouched(form, values)) setValues(typicalValues(form, typical));
    // Only when the typical sale arrives: later edits are the appraiser's.
  }, [typical]);

  if (!info) return <p className="muted">Loading…</p>;
  if (!form) {
    return (
      <section>
        <h1>Value a property</h1>
        <FirstRunCard reason="no-data" />
      </section>
    );
  }

  const { result } = state;
  const modelName = (v: ApiValuation) => (info.champion?.id === v.modelId ? info.champion.name : null);

  const submit = async () => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const input = toPropertyInput(form, state.values);
      const valuationDate = state.valuationDate || undefined;
      let v = await api.call('value', { input, valuationDate });
      // The grid is worked out only on request: again for the new valuation when it was open for the last one.
      if (result && gridComparables(result).length > 0 && v.comparables.length > 0) {
        const g = await api.call('valuation.grid', { model: v.modelId, input: v.input, valuationDate: v.valuationDate ?? undefined });
        v = { ...v, comparables: g.comparables, ...(g.reconciliation ? { reconciliation: g.reconciliation } : {}) };
      }
      // The subject and assignment stay: a second valuation is usually of the same property, corrected.
      state.setResult(result?.subject ? { ...v, subject: result.subject } : v);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const save = async () => {
    if (!result) return;
    try {
      const valuation = { ...result, subject: savedSubject(result.subject ?? {}, result.valuationDate) };
      const entry = await api.call('history.save', { label: historyLabel(valuation, form, money.format), valuation });
      setHistory([entry, ...history]);
      setNotice('Saved to the history.');
    } catch (err) {
      setError(err);
    }
  };

  const exportPdf = async () => {
    if (!result) return;
    try {
      // pdf-lib is loaded on first export only: it is most of the bundle and not needed to start.
      const { valuationReportPdf } = await import('../../pdf-report.js');
      const models = await api.call('models.list', {}).catch(() => []);
      // The out-of-time figures are in the manifest only; a model not in this workspace has none to print.
      const manifest = await api.call('models.manifest', { ref: result.modelId }).catch(() => null);
      const valuation = { ...result, subject: savedSubject(result.subject ?? {}, result.valuationDate) };
      const bytes = await valuationReportPdf(valuation, form, {
        model: models.find((m) => m.id === result.modelId) ?? null,
        outOfTime: manifest?.outOfTime ?? null,
        settings: settings ?? (await loadReportSettings()),
      });
      download(bytes, `valuation-${roundEstimate(result.estimate, form)}-${result.valuationDate ?? 'today'}.pdf`);
      setNotice('Report exported as PDF.');
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section aria-labelledby="value-title">
      <h1 id="value-title">Value a property</h1>
      <p className="muted">
        Schema <strong>{form.configName}</strong> from dataset {form.datasetName} ({shortId(form.datasetId)}).
      </p>
      {!info.champion && <FirstRunCard reason="no-model" />}
      <div className="value-layout">
        <PropertyForm form={form} state={state} busy={busy} onSubmit={() => void submit()} typical={typical} findingTypical={findingTypical} />
        <div className="result-col">
          <ErrorBanner error={error} onDismiss={() => setError(null)} />
          {notice && (
            <p className="notice" role="status">
              {notice}
            </p>
          )}
          {result ? (
            <ValuationResult
              v={result}
              form={form}
              onSave={() => void save()}
              onPdf={() => void exportPdf()}
              modelName={modelName(result)}
              roundTo={settings?.roundTo ?? null}
            />
          ) : (
            <div className="card muted">The estimate, its range, the main reasons and comparable sales appear here.</div>
          )}
        </div>
      </div>
      {result && (
        <>
          {/* Full width: a grid of the subject and five or more comparables does not fit the result column. */}
          <section className="card grid-card" aria-labelledby="grid-title">
            <h2 id="grid-title">Adjustment grid</h2>
            <GridPanel
              v={result}
              form={form}
              onGrid={(g) => state.setResult({ ...result, comparables: g.comparables, reconciliation: g.reconciliation ?? undefined, gridEdits: g.edits })}
            />
          </section>
          <SubjectForm subject={result.subject ?? {}} valuationDate={result.valuationDate} onChange={(subject) => state.setResult({ ...result, subject })} />
        </>
      )}
      <SavedValuations
        entries={history}
        onOpen={(h) => state.setResult(h.valuation)}
        onDelete={async (h) => {
          await api.call('history.delete', { id: h.id });
          setHistory(history.filter((x) => x.id !== h.id));
        }}
      />
    </section>
  );
}

/** "$540,000 · Bedrooms 4, Living area 2,400, …": the rounded estimate and the first few filled-in fields. */
function historyLabel(v: ApiValuation, form: FormSchema, fmtMoney: (n: number) => string): string {
  const fields = Object.entries(v.input)
    .filter(([k, val]) => val !== null && val !== '' && form.fields.some((f) => f.name === k))
    .slice(0, 4)
    .map(
      ([k, val]) =>
        `${featureLabel(form, k)} ${fieldValueText(
          form.fields.find((f) => f.name === k),
          val,
        )}`,
    );
  return `${fmtMoney(roundEstimate(v.estimate, form))} · ${fields.join(', ')}`;
}

/** Hands the bytes to the window as a file download. */
function download(bytes: Uint8Array, filename: string): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/pdf' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
