import { useEffect, useMemo, useRef, useState } from 'react';
import type { ChartConfiguration } from 'chart.js';
import type { ApiValuation, FormField, FormSchema, HistoryEntry } from '../../../core/api/contract.js';
import type { AppContext } from '../App.js';
import { api } from '../api-client.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { ChartCanvas, themeColors } from '../components/ChartCanvas.js';
import { fmtDate, fmtMoney, fmtNum, fmtSignedMoney, shortId } from '../format.js';

type Values = Record<string, string>;

/** The last form and result survive switching screens (not reloads: the history is for keeping). */
const kept: { values: Values | null; date: string; result: ApiValuation | null; datasetId: string | null } = { values: null, date: '', result: null, datasetId: null };

function defaults(form: FormSchema): Values {
  return Object.fromEntries(form.fields.map((f) => [f.name, f.default === null ? '' : String(f.default)]));
}

/** Form values as the API takes them: numbers as numbers, empty fields left out. */
function toInput(form: FormSchema, values: Values): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const f of form.fields) {
    const raw = (values[f.name] ?? '').trim();
    if (raw === '') continue;
    const numeric = ['numeric', 'integer', 'latitude', 'longitude'].includes(f.type);
    out[f.name] = numeric && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return out;
}

export function ValueScreen({ ctx }: { ctx: AppContext }) {
  const form = ctx.info?.form ?? null;
  const [values, setValues] = useState<Values>(kept.values ?? {});
  const [valuationDate, setValuationDate] = useState(kept.date);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<ApiValuation | null>(kept.result);
  const [history, setHistory] = useState<HistoryEntry[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const validateTimer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    if (!form || (kept.values && kept.datasetId === form.datasetId)) return;
    setValues(defaults(form));
    setValuationDate(form.defaultValuationDate ?? new Date().toISOString().slice(0, 10));
    setResult(null);
  }, [form]);

  useEffect(() => {
    Object.assign(kept, { values, date: valuationDate, result, datasetId: form?.datasetId ?? null });
  }, [values, valuationDate, result, form]);

  useEffect(() => {
    void api.call('history.list', {}).then(setHistory, () => undefined);
  }, []);

  // Validate as you type: the same rules as ingest, checked by core after a short pause.
  useEffect(() => {
    if (!form || Object.keys(values).length === 0) return;
    if (validateTimer.current) clearTimeout(validateTimer.current);
    validateTimer.current = setTimeout(() => {
      api.call('form.validate', { input: toInput(form, values) }).then(
        (r) => setFieldErrors(Object.fromEntries(r.errors.map((e) => [e.field, e.message]))),
        () => undefined,
      );
    }, 200);
    return () => {
      if (validateTimer.current) clearTimeout(validateTimer.current);
    };
  }, [form, values]);

  if (!ctx.info) return <p className="muted">Loading…</p>;
  if (!form) {
    return (
      <section>
        <h1>Value a property</h1>
        <div className="card">
          <p>This workspace has no data yet, so there is no property form to show.</p>
          <p>
            <button onClick={() => ctx.go('data')}>Import data or load the demo</button>
          </p>
        </div>
      </section>
    );
  }

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      setResult(await api.call('value', { input: toInput(form, values), valuationDate: valuationDate || undefined }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const save = async () => {
    if (!result) return;
    const label = `${fmtMoney(result.estimate)} · ${Object.entries(result.input).filter(([k, v]) => v !== null && v !== '' && form.fields.some((f) => f.name === k)).slice(0, 4).map(([k, v]) => `${k} ${String(v)}`).join(', ')}`;
    try {
      const entry = await api.call('history.save', { label, valuation: result });
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
      const { valuationReportPdf } = await import('../pdf-report.js');
      const bytes = await valuationReportPdf(result, form, ctx.info?.champion?.id === result.modelId ? ctx.info.champion.name : null);
      const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/pdf' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `valuation-${Math.round(result.estimate)}-${result.valuationDate ?? 'today'}.pdf`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setNotice('Report exported as PDF.');
    } catch (err) {
      setError(err);
    }
  };

  const hasErrors = Object.keys(fieldErrors).length > 0;
  return (
    <section aria-labelledby="value-title">
      <h1 id="value-title">Value a property</h1>
      <p className="muted">
        Schema <strong>{form.configName}</strong> from dataset {form.datasetName} ({shortId(form.datasetId)}).{' '}
        {!ctx.info.champion && 'There is no champion model yet: train one and promote it first.'}
      </p>
      <div className="value-layout">
        <form className="card property-form" onSubmit={submit} aria-label="Property">
          <div className="fields">
            {form.fields.map((f) => (
              <Field key={f.name} field={f} value={values[f.name] ?? ''} error={fieldErrors[f.name]} onChange={(v) => setValues({ ...values, [f.name]: v })} />
            ))}
            <label className="field">
              <span>Valuation date</span>
              <input type="date" name="valuationDate" value={valuationDate} onChange={(e) => setValuationDate(e.target.value)} required />
            </label>
          </div>
          <div className="actions">
            <button type="submit" disabled={busy || hasErrors} data-testid="value-submit">
              {busy ? 'Valuing…' : 'Value this property'}
            </button>
            <button type="button" className="secondary" onClick={() => setValues(defaults(form))}>
              Reset to typical values
            </button>
            {hasErrors && <span className="field-error">Fix the highlighted fields first.</span>}
          </div>
        </form>
        <div className="result-col">
          <ErrorBanner error={error} onDismiss={() => setError(null)} />
          {notice && (
            <p className="notice" role="status">
              {notice}
            </p>
          )}
          {result ? <ValuationResult v={result} form={form} onSave={save} onPdf={exportPdf} modelName={ctx.info.champion?.id === result.modelId ? ctx.info.champion.name : null} /> : <div className="card muted">The estimate, its range, the main reasons and comparable sales appear here.</div>}
        </div>
      </div>
      <History entries={history} onOpen={(h) => setResult(h.valuation)} onDelete={async (h) => {
        await api.call('history.delete', { id: h.id });
        setHistory(history.filter((x) => x.id !== h.id));
      }} />
    </section>
  );
}

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
            {f.type === 'boolean' ? (o === f.options![1] ? 'Yes' : 'No') : o}
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
    const numeric = ['numeric', 'integer', 'latitude', 'longitude'].includes(f.type);
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

function ValuationResult({ v, form, onSave, onPdf, modelName }: { v: ApiValuation; form: FormSchema; onSave: () => void; onPdf: () => void; modelName: string | null }) {
  const labels = useMemo(() => new Map(form.fields.map((f) => [f.name, f.label])), [form]);
  const sortedIntervals = [...v.intervals].sort((a, b) => a.level - b.level);
  const narrow = sortedIntervals[0] ?? v.interval;
  const wide = sortedIntervals[sortedIntervals.length - 1] ?? v.interval;
  return (
    <div className="card result" data-testid="valuation-result">
      <div className="estimate-row">
        <div>
          <div className="muted">Estimated value{v.valuationDate ? ` on ${v.valuationDate}` : ''}</div>
          <div className="estimate" data-testid="estimate" data-value={v.estimate}>
            {fmtMoney(v.estimate)}
          </div>
          {sortedIntervals.map((iv) => (
            <div key={iv.level} data-testid={`interval-${Math.round(iv.level * 100)}`} data-low={iv.low} data-high={iv.high}>
              {Math.round(iv.level * 100)} % range: {fmtMoney(iv.low)} – {fmtMoney(iv.high)}
            </div>
          ))}
        </div>
        <div className="actions vertical">
          <button onClick={onSave}>Save to history</button>
          <button className="secondary" onClick={onPdf} data-testid="export-pdf">
            Export PDF report
          </button>
        </div>
      </div>
      <RangeBand estimate={v.estimate} narrow={narrow} wide={wide} />
      <p className="muted small">
        Model {modelName ?? ''} <code data-testid="model-used">{shortId(v.modelId)}</code>. The ranges are calibrated on sales the model did not see: {Math.round(narrow.level * 100)} % of such estimates were within the inner band.
      </p>
      {v.warnings.length > 0 && (
        <ul className="warnings" aria-label="Warnings">
          {v.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
      <h2>Main reasons</h2>
      <ShapChart v={v} labels={labels} />
      <h2>Comparable sales</h2>
      <Comparables v={v} />
    </div>
  );
}

/** The 80 % and 95 % ranges drawn to scale, the estimate as a tick. */
function RangeBand({ estimate, narrow, wide }: { estimate: number; narrow: { level: number; low: number; high: number }; wide: { level: number; low: number; high: number } }) {
  const lo = wide.low - (wide.high - wide.low) * 0.05;
  const hi = wide.high + (wide.high - wide.low) * 0.05;
  const x = (v: number) => `${((v - lo) / (hi - lo)) * 100}%`;
  return (
    <div className="band-wrap">
    <svg className="band" viewBox="0 0 100 32" preserveAspectRatio="none" role="img" aria-label={`Range: ${fmtMoney(wide.low)} to ${fmtMoney(wide.high)}, estimate ${fmtMoney(estimate)}`} width="100%" height="40">
      <rect x={x(wide.low)} y="8" width={`${((wide.high - wide.low) / (hi - lo)) * 100}%`} height="16" className="band-wide" />
      <rect x={x(narrow.low)} y="8" width={`${((narrow.high - narrow.low) / (hi - lo)) * 100}%`} height="16" className="band-narrow" />
      <rect x={x(estimate)} y="2" width="0.6%" height="28" className="band-estimate" />
    </svg>
      <div className="band-legend muted small">
        <span>{fmtMoney(wide.low)}</span>
        <span>
          inner band {Math.round(narrow.level * 100)} %, outer {Math.round(wide.level * 100)} %
        </span>
        <span>{fmtMoney(wide.high)}</span>
      </div>
    </div>
  );
}

function ShapChart({ v, labels }: { v: ApiValuation; labels: Map<string, string> }) {
  const config = useMemo<ChartConfiguration>(() => {
    const c = themeColors();
    const top = [...v.contributions].sort((a, b) => Math.abs(b.amount) - Math.abs(a.amount)).slice(0, 10);
    return {
      type: 'bar',
      data: {
        labels: top.map((t) => {
          const shown = t.displayValue ?? v.input[t.feature] ?? t.featureValue;
          return `${labels.get(t.feature) ?? t.feature}${shown === null || shown === undefined ? '' : ` = ${typeof shown === 'number' ? fmtNum(shown) : shown}`}`;
        }),
        datasets: [{ label: 'Contribution (USD)', data: top.map((t) => t.amount), backgroundColor: top.map((t) => (t.amount >= 0 ? c.good : c.bad)) }],
      },
      options: {
        indexAxis: 'y',
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: (item) => fmtSignedMoney(Number(item.raw)) } } },
        scales: { x: { ticks: { callback: (val) => fmtMoney(Number(val)) } } },
      },
    };
  }, [v, labels]);
  return <ChartCanvas config={config} label="How much each feature moved the estimate, in dollars" height={280} />;
}

function Comparables({ v }: { v: ApiValuation }) {
  const hasGeo = v.comparables.some((c) => c.latitude !== null && c.longitude !== null);
  const subject = useMemo(() => {
    const entries = Object.entries(v.input);
    const lat = entries.find(([k]) => /^lat(itude)?$/i.test(k))?.[1];
    const lon = entries.find(([k]) => /^(long|lon|lng|longitude)$/i.test(k))?.[1];
    return typeof lat === 'number' && typeof lon === 'number' ? { x: lon, y: lat } : null;
  }, [v]);
  const config = useMemo<ChartConfiguration>(() => {
    const c = themeColors();
    return {
      type: 'scatter',
      data: {
        datasets: [
          { label: 'Comparable sales', data: v.comparables.filter((s) => s.latitude !== null).map((s) => ({ x: s.longitude!, y: s.latitude! })), backgroundColor: c.accent, pointRadius: 6 },
          ...(subject ? [{ label: 'This property', data: [subject], backgroundColor: c.bad, pointStyle: 'rectRot' as const, pointRadius: 9 }] : []),
        ],
      },
      options: { scales: { x: { title: { display: true, text: 'Longitude' } }, y: { title: { display: true, text: 'Latitude' } } } },
    };
  }, [v, subject]);
  if (v.comparables.length === 0) return <p className="muted">No comparable sales were found.</p>;
  const attrs = Object.keys(v.comparables[0].attributes).slice(0, 4);
  return (
    <div className="comparables">
      <div className="scroll">
      <table data-testid="comparables">
        <thead>
          <tr>
            <th>Sale date</th>
            <th className="num">Price</th>
            <th className="num">Distance</th>
            {attrs.map((a) => (
              <th key={a}>{a}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {v.comparables.map((c) => (
            <tr key={c.rowIndex}>
              <td>{c.saleDate ?? '—'}</td>
              <td className="num">{fmtMoney(c.price)}</td>
              <td className="num">{c.distanceKm === null ? '—' : `${c.distanceKm.toFixed(2)} km`}</td>
              {attrs.map((a) => (
                <td key={a}>{String(c.attributes[a] ?? '—')}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      </div>
      {hasGeo && <ChartCanvas config={config} label="Map of comparable sales by latitude and longitude" height={240} />}
    </div>
  );
}

function History({ entries, onOpen, onDelete }: { entries: HistoryEntry[]; onOpen: (h: HistoryEntry) => void; onDelete: (h: HistoryEntry) => void }) {
  return (
    <details className="card history" open={entries.length > 0}>
      <summary>Saved valuations ({entries.length})</summary>
      {entries.length === 0 ? (
        <p className="muted">Save a valuation to keep it here.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Saved</th>
              <th>Valuation</th>
              <th className="num">Estimate</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {entries.map((h) => (
              <tr key={h.id}>
                <td>{fmtDate(h.savedAt)}</td>
                <td>{h.label}</td>
                <td className="num">{fmtMoney(h.valuation.estimate)}</td>
                <td>
                  <button className="link" onClick={() => onOpen(h)}>
                    Open
                  </button>{' '}
                  <button className="link" onClick={() => onDelete(h)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </details>
  );
}
