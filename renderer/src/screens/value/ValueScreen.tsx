import { useEffect, useState } from 'react';
import type { ApiValuation, FormSchema, HistoryEntry } from '../../../../core/contract/contract.js';
import { useApp, useMoney } from '../../app-context.js';
import { api } from '../../api-client.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { shortId } from '../../format.js';
import { toPropertyInput } from './property-values.js';
import { usePropertyForm } from './use-property-form.js';
import { PropertyForm } from './PropertyForm.js';
import { SavedValuations } from './SavedValuations.js';
import { ValuationResult } from './ValuationResult.js';
import { FirstRunCard } from './FirstRunCard.js';
import { featureLabel, fieldValueText, roundEstimate } from '../../feature-format.js';

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

  useEffect(() => {
    void api.call('history.list', {}).then(setHistory, () => undefined);
  }, []);

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
      state.setResult(await api.call('value', { input: toPropertyInput(form, state.values), valuationDate: state.valuationDate || undefined }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const save = async () => {
    if (!result) return;
    try {
      const entry = await api.call('history.save', { label: historyLabel(result, form, money.format), valuation: result });
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
      const bytes = await valuationReportPdf(result, form, modelName(result));
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
        <PropertyForm form={form} state={state} busy={busy} onSubmit={() => void submit()} />
        <div className="result-col">
          <ErrorBanner error={error} onDismiss={() => setError(null)} />
          {notice && (
            <p className="notice" role="status">
              {notice}
            </p>
          )}
          {result ? (
            <ValuationResult v={result} form={form} onSave={() => void save()} onPdf={() => void exportPdf()} modelName={modelName(result)} />
          ) : (
            <div className="card muted">The estimate, its range, the main reasons and comparable sales appear here.</div>
          )}
        </div>
      </div>
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
