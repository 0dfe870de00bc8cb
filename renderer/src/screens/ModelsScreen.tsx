import { useCallback, useEffect, useMemo, useState } from 'react';
import type { ChartConfiguration } from 'chart.js';
import type { MethodOutput } from '../../../core/contract/contract.js';
import { useApp, useMoney } from '../app-context.js';
import { api } from '../api-client.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { ChartCanvas, themeColors } from '../components/ChartCanvas.js';
import { fmtDate, fmtNum, fmtPct, shortId, type MoneyFormatter } from '../format.js';

type Summary = MethodOutput<'models.list'>[number];
type Manifest = MethodOutput<'models.manifest'>;
type History = MethodOutput<'models.history'>;
/** A champion change waiting for the user's confirmation and reason. */
type Pending = { action: 'promote'; model: Summary } | { action: 'rollback'; model: Summary };

export function ModelsScreen() {
  const { refreshInfo } = useApp();
  const [models, setModels] = useState<Summary[] | null>(null);
  const [compare, setCompare] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [exportDir, setExportDir] = useState('');
  const [importPaths, setImportPaths] = useState({ onnx: '', manifest: '' });
  const [history, setHistory] = useState<History | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [reason, setReason] = useState('');

  const reload = useCallback(async () => {
    try {
      setModels(await api.call('models.list', {}));
      setHistory(await api.call('models.history', {}));
    } catch (e) {
      setError(e);
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);

  const act = async (label: string, fn: () => Promise<unknown>) => {
    setError(null);
    setNotice(null);
    try {
      await fn();
      setNotice(label);
      await reload();
      await refreshInfo();
    } catch (e) {
      setError(e);
    }
  };

  const ask = (p: Pending) => {
    setPending(p);
    setReason('');
  };
  const confirm = async () => {
    if (!pending) return;
    const p = pending;
    setPending(null);
    await (p.action === 'promote'
      ? act(`${p.model.name} (${shortId(p.model.id)}) is now the champion.`, () => api.call('models.promote', { ref: p.model.id, reason }))
      : act(`Rolled back: ${p.model.name} (${shortId(p.model.id)}) is the champion again.`, () => api.call('models.rollback', { reason })));
  };
  const rollbackTo = history?.rollbackTo ?? null;
  // The confirmation names what the change replaces too, not only what it brings in.
  const champion = models?.find((m) => m.status === 'champion') ?? null;
  const replaces = champion ? ` It replaces ${champion.name} (${shortId(champion.id)}).` : '';

  const toggle = (id: string) => setCompare(compare.includes(id) ? compare.filter((x) => x !== id) : [...compare.slice(-1), id]);

  return (
    <section aria-labelledby="models-title">
      <h1 id="models-title">Models</h1>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <div className="card">
        <div className="row-between">
          <h2>Registry</h2>
          <button
            className="secondary"
            disabled={!rollbackTo}
            title={rollbackTo ? 'Undo the latest promotion' : 'No earlier champion is recorded'}
            onClick={() => rollbackTo && ask({ action: 'rollback', model: rollbackTo })}
            data-testid="rollback"
          >
            {rollbackTo ? `Roll back to ${rollbackTo.name} (${shortId(rollbackTo.id)})` : 'Nothing to roll back to'}
          </button>
        </div>
        {pending && (
          <form
            className="card confirm"
            aria-label="Confirm the champion change"
            onSubmit={(e) => {
              e.preventDefault();
              void confirm();
            }}
          >
            <p data-testid="change-question">
              {pending.action === 'promote' ? (
                <>
                  Make <strong>{pending.model.name}</strong> ({shortId(pending.model.id)}) the champion? Every new valuation will use it.{replaces}
                </>
              ) : (
                <>
                  Roll back to <strong>{pending.model.name}</strong> ({shortId(pending.model.id)})? It becomes the champion again.{replaces} The latest
                  promotion is undone.
                </>
              )}
            </p>
            <label className="field grow">
              <span>Reason (kept in the history below)</span>
              <input value={reason} onChange={(e) => setReason(e.target.value)} required maxLength={500} data-testid="change-reason" autoFocus />
            </label>
            <div className="actions">
              <button type="submit" disabled={reason.trim() === ''} data-testid="change-confirm">
                {pending.action === 'promote' ? 'Promote' : 'Roll back'}
              </button>
              <button type="button" className="secondary" onClick={() => setPending(null)}>
                Cancel
              </button>
            </div>
          </form>
        )}
        {models === null ? (
          <p className="muted">Loading…</p>
        ) : models.length === 0 ? (
          <p className="muted">No models yet. Train one on the Train screen, or import one below.</p>
        ) : (
          <table data-testid="models">
            <thead>
              <tr>
                <th>Compare</th>
                <th>Name</th>
                <th>Id</th>
                <th>Status</th>
                <th>Data</th>
                <th className="num">Trees</th>
                <th className="num">RMSE (log)</th>
                <th className="num">Median error</th>
                <th className="num">COD</th>
                <th>Created</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {models.map((m) => (
                <tr key={m.id} data-model-id={m.id}>
                  <td>
                    <input type="checkbox" checked={compare.includes(m.id)} onChange={() => toggle(m.id)} aria-label={`Compare ${m.name}`} />
                  </td>
                  <td className="nowrap">{m.name}</td>
                  <td>
                    <code>{shortId(m.id)}</code>
                  </td>
                  <td>
                    <span className={`badge ${m.status}`}>{m.status}</span>
                  </td>
                  <td>{m.datasetName ?? '—'}</td>
                  <td className="num">{m.nTrees}</td>
                  <td className="num">{m.cv ? m.cv.rmseLog.toFixed(4) : '—'}</td>
                  <td className="num">{fmtPct(m.cv?.mdape)}</td>
                  <td className="num">{fmtNum(m.cv?.cod)}</td>
                  <td>{fmtDate(m.createdAt)}</td>
                  <td>
                    <span className="row-actions">
                      {m.status !== 'champion' && (
                        <button className="link" onClick={() => ask({ action: 'promote', model: m })} aria-label={`Promote ${m.name}`}>
                          Promote
                        </button>
                      )}
                      {m.status === 'challenger' && (
                        <button
                          className="link"
                          onClick={() => void act(`${m.name} archived.`, () => api.call('models.archive', { ref: m.id }))}
                          aria-label={`Archive ${m.name}`}
                        >
                          Archive
                        </button>
                      )}
                      <button
                        className="link"
                        disabled={!exportDir}
                        title={exportDir ? `Export to ${exportDir}` : 'Enter an export folder below first'}
                        onClick={() => void act(`Exported ${m.name} to ${exportDir}.`, () => api.call('models.export', { ref: m.id, dir: exportDir }))}
                      >
                        Export
                      </button>
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p className="muted small">Tick two models to compare them side by side.</p>
      </div>
      {compare.length === 2 && <Comparison ids={compare} />}
      <div className="card">
        <h2>Champion history</h2>
        {!history || history.changes.length === 0 ? (
          <p className="muted">No champion changes yet.</p>
        ) : (
          <table data-testid="champion-history">
            <thead>
              <tr>
                <th>When</th>
                <th>Who</th>
                <th>Change</th>
                <th>Champion</th>
                <th>Replaced</th>
                <th>Reason</th>
              </tr>
            </thead>
            <tbody>
              {history.changes.map((c) => (
                <tr key={c.seq}>
                  <td>{fmtDate(c.at)}</td>
                  <td>{c.who ?? '—'}</td>
                  <td>{c.action === 'promote' ? 'Promoted' : 'Rolled back'}</td>
                  <td>
                    {c.modelName ?? ''} <code>{shortId(c.modelId)}</code>
                  </td>
                  <td>
                    {c.previousId ? (
                      <>
                        {c.previousName ?? ''} <code>{shortId(c.previousId)}</code>
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>{c.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <div className="card">
        <h2>Export and import</h2>
        <form className="inline-form" onSubmit={(e) => e.preventDefault()}>
          <label className="field grow">
            <span>Export folder (used by each row's Export)</span>
            <input value={exportDir} onChange={(e) => setExportDir(e.target.value)} placeholder="/home/me/models" />
          </label>
        </form>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void act('Model imported as a challenger.', () => api.call('models.import', importPaths));
          }}
        >
          <label className="field grow">
            <span>ONNX file</span>
            <input value={importPaths.onnx} onChange={(e) => setImportPaths({ ...importPaths, onnx: e.target.value })} required />
          </label>
          <label className="field grow">
            <span>Manifest (JSON)</span>
            <input value={importPaths.manifest} onChange={(e) => setImportPaths({ ...importPaths, manifest: e.target.value })} required />
          </label>
          <div className="actions">
            <button type="submit">Import model</button>
          </div>
        </form>
      </div>
    </section>
  );
}

const METRICS: { key: string; label: string; fmt: (v: number, money: MoneyFormatter) => string; better: 'low' | 'high' }[] = [
  { key: 'rmseLog', label: 'RMSE of log price', fmt: (v) => v.toFixed(4), better: 'low' },
  { key: 'mdape', label: 'Median abs. % error', fmt: (v) => fmtPct(v), better: 'low' },
  { key: 'mape', label: 'Mean abs. % error', fmt: (v) => fmtPct(v), better: 'low' },
  { key: 'within10', label: 'Within 10 %', fmt: (v) => fmtPct(v), better: 'high' },
  { key: 'within20', label: 'Within 20 %', fmt: (v) => fmtPct(v), better: 'high' },
  { key: 'r2', label: 'R² (on prices)', fmt: (v) => v.toFixed(3), better: 'high' },
  { key: 'mae', label: 'Mean abs. error', fmt: (v, money) => money.format(v), better: 'low' },
  { key: 'cod', label: 'COD (IAAO ≤ 15)', fmt: (v) => v.toFixed(2), better: 'low' },
  { key: 'prd', label: 'PRD (IAAO 0.98–1.03)', fmt: (v) => v.toFixed(3), better: 'low' },
];

/**
 * Out-of-time rows of the comparison, shown first: a model values properties after its last sale, which random
 * folds never test. Labels avoid the cross-validated rows' wording so each row is found by its own name.
 */
const OUT_OF_TIME_METRICS: { key: 'rmseLog' | 'mdape' | 'medianRatio' | 'cod'; label: string; fmt: (v: number) => string; better: 'low' | 'one' }[] = [
  { key: 'rmseLog', label: 'Out-of-time RMSE (log)', fmt: (v) => v.toFixed(4), better: 'low' },
  { key: 'mdape', label: 'Out-of-time median abs. error', fmt: (v) => fmtPct(v), better: 'low' },
  { key: 'medianRatio', label: 'Out-of-time median ratio', fmt: (v) => v.toFixed(3), better: 'one' },
  { key: 'cod', label: 'Out-of-time COD', fmt: (v) => v.toFixed(2), better: 'low' },
];

function OutOfTimeRows({ manifests, sameData }: { manifests: Manifest[]; sameData: boolean }) {
  if (!manifests.some((m) => m.outOfTime)) return null;
  const [a, b] = manifests.map((m) => m.outOfTime);
  // The same blocks of the same data (with or without the price index: that is what the comparison is for).
  const blocks = (s: string) => s.split(',')[0];
  const alike = sameData && Boolean(a && b && a.folds.length === b.folds.length && blocks(a.scheme) === blocks(b.scheme));
  return (
    <>
      <tr data-testid="comparison-out-of-time">
        <th colSpan={manifests.length + 1}>Out of time: later sales predicted from earlier ones{alike ? '' : ' (measured on different blocks: not ranked)'}</th>
      </tr>
      {OUT_OF_TIME_METRICS.map((k) => {
        const vals = manifests.map((m) => m.outOfTime?.[k.key]);
        const present = vals.filter((v): v is number => v !== undefined);
        const best =
          k.better === 'one'
            ? present.reduce<number | undefined>((acc, v) => (acc === undefined || Math.abs(v - 1) < Math.abs(acc - 1) ? v : acc), undefined)
            : Math.min(...present);
        return (
          <tr key={k.key}>
            <td>{k.label}</td>
            {vals.map((v, i) => (
              <td key={i} className={alike && v !== undefined && v === best ? 'num best' : 'num'}>
                {v === undefined ? '—' : k.fmt(v)}
              </td>
            ))}
          </tr>
        );
      })}
      <tr>
        <td>Median ratio per block</td>
        {manifests.map((m) => (
          <td key={m.modelId} className="num small">
            {m.outOfTime ? m.outOfTime.folds.map((f) => f.medianRatio.toFixed(3)).join(' · ') : '—'}
          </td>
        ))}
      </tr>
      <tr>
        <th colSpan={manifests.length + 1}>Cross-validated</th>
      </tr>
    </>
  );
}

function Comparison({ ids }: { ids: string[] }) {
  const money = useMoney();
  const [manifests, setManifests] = useState<Manifest[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    Promise.all(ids.map((ref) => api.call('models.manifest', { ref }))).then(setManifests, setError);
  }, [ids]);

  const calibration = useMemo<ChartConfiguration | null>(() => {
    if (!manifests) return null;
    const c = themeColors();
    const colors = [c.accent, c.bad];
    return {
      type: 'line',
      data: {
        datasets: [
          {
            label: 'Perfect calibration',
            data: [
              { x: 0.5, y: 0.5 },
              { x: 1, y: 1 },
            ],
            borderColor: c.muted,
            borderDash: [4, 4],
            pointRadius: 0,
          },
          ...manifests.map((m, i) => ({
            label: `${m.name} ${shortId(m.modelId)}`,
            data: m.intervals.map((iv) => ({ x: iv.level, y: iv.empiricalCoverage })),
            borderColor: colors[i],
            backgroundColor: colors[i],
          })),
        ],
      },
      options: {
        scales: {
          x: { type: 'linear', min: 0.5, max: 1, title: { display: true, text: 'Nominal coverage' } },
          y: { min: 0.5, max: 1, title: { display: true, text: 'Coverage on unseen sales' } },
        },
      },
    };
  }, [manifests]);

  const folds = useMemo<ChartConfiguration | null>(() => {
    if (!manifests) return null;
    const c = themeColors();
    const n = Math.max(...manifests.map((m) => m.cv?.folds.length ?? 0));
    return {
      type: 'bar',
      data: {
        labels: Array.from({ length: n }, (_, i) => `Fold ${i + 1}`),
        datasets: manifests.map((m, i) => ({
          label: `${m.name} ${shortId(m.modelId)}`,
          data: (m.cv?.folds ?? []).map((f) => f.rmseLog),
          backgroundColor: [c.accent, c.bad][i],
        })),
      },
      options: { scales: { y: { title: { display: true, text: 'RMSE of log price' } } } },
    };
  }, [manifests]);

  const residuals = useMemo<ChartConfiguration | null>(() => {
    if (!manifests || !manifests.some((m) => m.residualSample)) return null;
    const c = themeColors();
    return {
      type: 'scatter',
      data: {
        datasets: manifests.map((m, i) => ({
          label: `${m.name} ${shortId(m.modelId)}`,
          data: (m.residualSample?.actual ?? []).map((a, k) => ({ x: a, y: (100 * (m.residualSample!.estimate[k] - a)) / a })),
          backgroundColor: [c.accent, c.bad][i],
          pointRadius: 2,
        })),
      },
      options: {
        scales: {
          x: { type: 'logarithmic', title: { display: true, text: 'Sale price (log scale)' } },
          y: { min: -60, max: 60, title: { display: true, text: 'Estimate error, % of price' } },
        },
      },
    };
  }, [manifests]);

  if (error) return <ErrorBanner error={error} />;
  if (!manifests) return <p className="muted">Loading the two models…</p>;
  // Figures are comparable only when measured alike: the same cross-validation folds of the same data.
  const [a, b] = manifests;
  const sameData = a.trainingDatasetId !== null && a.trainingDatasetId === b.trainingDatasetId;
  const sameFolds = Boolean(a.cv && b.cv && a.cv.scheme === b.cv.scheme && a.cv.folds.length === b.cv.folds.length);
  const alike = sameData && sameFolds;
  return (
    <div className="card" data-testid="comparison">
      <h2>Side by side</h2>
      <p className={alike ? 'notice neutral' : 'notice'} data-testid="comparison-basis">
        {alike
          ? `Both models were measured on the same folds (${a.cv!.scheme}) of the same data, so their figures compare like with like.`
          : `These models were measured differently (${sameData ? 'same data' : 'different data'}, ${sameFolds ? 'same folds' : 'different folds'}): their figures are shown for reference and not ranked. Retrain one on the other's data and folds to compare them.`}
      </p>
      <table>
        <thead>
          <tr>
            <th>Metric (cross-validated)</th>
            {manifests.map((m) => (
              <th key={m.modelId} className="num">
                {m.name} <code>{shortId(m.modelId)}</code>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          <OutOfTimeRows manifests={manifests} sameData={sameData} />
          <tr>
            <td>Trees / mode</td>
            {manifests.map((m) => (
              <td key={m.modelId} className="num">
                {m.nTrees} / {m.mode}
              </td>
            ))}
          </tr>
          <tr>
            <td>Training data</td>
            {manifests.map((m) => (
              <td key={m.modelId} className="num">
                {m.trainingDatasetName ?? '—'}
              </td>
            ))}
          </tr>
          <tr>
            <td>How measured</td>
            {manifests.map((m) => (
              <td key={m.modelId} className="num small">
                {m.cv?.scheme ?? '—'}
              </td>
            ))}
          </tr>
          {METRICS.map((k) => {
            const vals = manifests.map((m) => (m.cv as Record<string, unknown> | null)?.[k.key] as number | undefined);
            const best =
              k.key === 'prd'
                ? vals.reduce<number | undefined>((b, v) => (v !== undefined && (b === undefined || Math.abs(v - 1) < Math.abs(b - 1)) ? v : b), undefined)
                : k.better === 'low'
                  ? Math.min(...vals.filter((v): v is number => v !== undefined))
                  : Math.max(...vals.filter((v): v is number => v !== undefined));
            return (
              <tr key={k.key}>
                <td>{k.label}</td>
                {vals.map((v, i) => (
                  <td key={i} className={alike && v !== undefined && v === best ? 'num best' : 'num'}>
                    {v === undefined ? '—' : k.fmt(v, money)}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
      <div className="two-charts">
        <div>
          <h3>Calibration of the ranges</h3>
          {calibration && <ChartCanvas config={calibration} label="Nominal against measured coverage of the prediction ranges" height={220} />}
        </div>
        <div>
          <h3>Error per cross-validation fold</h3>
          {folds && alike ? (
            <ChartCanvas config={folds} label="RMSE of log price per fold" height={220} />
          ) : (
            <p className="muted small">Fold by fold only for models measured on the same folds.</p>
          )}
        </div>
      </div>
      <div>
        <h3>Residuals on unseen sales</h3>
        {residuals ? (
          <ChartCanvas
            config={residuals}
            label="Estimate error in percent against sale price, out-of-fold sample of up to 1,000 sales per model"
            height={260}
          />
        ) : (
          <p className="muted small">These models carry no out-of-fold sample (imported, or trained by an older version).</p>
        )}
      </div>
    </div>
  );
}
