import { useEffect, useMemo, useState } from 'react';
import type { Chart, ChartConfiguration } from 'chart.js';
import type { JobProgress, MethodOutput } from '../../../core/contract/contract.js';
import { useApp, useMoney } from '../app-context.js';
import { api } from '../api-client.js';
import { useJob } from '../jobs/use-job.js';
import { CancelledNotice } from '../components/CancelledNotice.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { ChartCanvas, themeColors } from '../components/ChartCanvas.js';
import { fmtNum, fmtPct, shortId } from '../format.js';
import { lossCurve } from './loss-curve.js';

type Progress = JobProgress<'train'>;

const PHASES: Record<Progress['phase'], string> = {
  loading: 'Loading the data',
  tuning: 'Choosing the learner settings from the training sales',
  'cross-validation': 'Cross-validation',
  'final-model': 'Fitting the final model on all the data',
  export: 'Exporting to ONNX',
};

const ENDED = { done: 'Finished', failed: 'Stopped by an error', cancelled: 'Cancelled' } as const;

const DEFAULT_PARAMS = { n_rounds: '300', learning_rate: '0.05', max_leaves: '31', min_samples_leaf: '20' };

/** The parameter fields: the defaults, overridden by the parameters a training was started with. */
function paramFields(started: Record<string, number | string> | undefined): typeof DEFAULT_PARAMS {
  const fields = { ...DEFAULT_PARAMS };
  for (const k of Object.keys(fields) as (keyof typeof fields)[]) if (started?.[k] !== undefined) fields[k] = String(started[k]);
  return fields;
}

export function TrainScreen() {
  const { info, refreshInfo } = useApp();
  const money = useMoney();
  const [datasets, setDatasets] = useState<MethodOutput<'datasets.list'>>([]);
  const [models, setModels] = useState<MethodOutput<'models.list'>>([]);
  const job = useJob('train', { onDone: () => void api.call('models.list', {}).then(setModels, () => undefined) });
  // Back on this screen while a training runs (or after one), the form shows what it was started with.
  const started = job.input;
  const [dataset, setDataset] = useState(started?.dataset ?? '');
  const [mode, setMode] = useState<'full' | 'warm'>(started?.warmStart ? 'warm' : 'full');
  const [warmFrom, setWarmFrom] = useState(started?.warmStart ?? 'champion');
  const [params, setParams] = useState(() => paramFields(started?.params));
  const [folds, setFolds] = useState(started?.folds !== undefined ? String(started.folds) : '5');
  const [name, setName] = useState(started?.name ?? '');
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const running = job.state === 'running';
  const { progress, result } = job;

  useEffect(() => {
    api.call('datasets.list', {}).then((d) => {
      setDatasets(d);
      // Default: the champion's training data (retraining it is the usual case), else the newest dataset.
      const preferred = d.find((x) => x.id === info?.champion?.datasetId) ?? d[0];
      if (preferred) setDataset((cur) => cur || preferred.id);
    }, setError);
    api.call('models.list', {}).then(setModels, () => undefined);
  }, [info?.champion?.datasetId]);

  const start = (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    setNotice(null);
    const p: Record<string, number> = {};
    for (const [k, v] of Object.entries(params)) if (v.trim() !== '') p[k] = Number(v);
    void job.start({
      dataset,
      folds: Number(folds),
      params: p,
      ...(mode === 'warm' ? { warmStart: warmFrom } : {}),
      ...(name.trim() ? { name: name.trim() } : {}),
    });
  };

  const promote = async () => {
    if (!result) return;
    try {
      await api.call('models.promote', { ref: result.modelId });
      setNotice(`${result.name} is now the champion.`);
      await refreshInfo();
    } catch (err) {
      setError(err);
    }
  };

  // The curve comes from the job store's progress log, so it is all there after leaving the screen and back.
  const curve = useMemo(() => lossCurve(job.progressLog), [job.progressLog]);
  const chartConfig = useMemo<ChartConfiguration>(() => {
    const c = themeColors();
    return {
      type: 'line',
      data: {
        datasets: [
          { label: 'Validation loss', data: [], borderColor: c.accent, pointRadius: 0 },
          { label: 'Training loss', data: [], borderColor: c.muted, pointRadius: 0, borderDash: [4, 3] },
        ],
      },
      options: {
        parsing: false,
        scales: { x: { type: 'linear', title: { display: true, text: 'Boosting round' } }, y: { title: { display: true, text: 'Loss (log price)' } } },
      },
    };
  }, []);
  const updateChart = (chart: Chart) => {
    chart.data.datasets[0].data = curve.points.filter((p) => p.valid !== undefined).map((p) => ({ x: p.x, y: p.valid! }));
    chart.data.datasets[1].data = curve.points.filter((p) => p.train !== undefined).map((p) => ({ x: p.x, y: p.train! }));
  };

  const frac = progress?.round !== undefined && progress.nRounds ? progress.round / progress.nRounds : null;
  const label = progress
    ? `${PHASES[progress.phase]}${progress.fold !== undefined && progress.folds ? ` — fold ${progress.fold + 1} of ${progress.folds}` : ''}${progress.round !== undefined ? ` — round ${progress.round}${progress.nRounds ? ` of ${progress.nRounds}` : ''}` : ''}${progress.validLoss !== undefined ? ` — validation loss ${progress.validLoss.toFixed(4)}` : ''}`
    : 'Starting…';

  return (
    <section aria-labelledby="train-title">
      <h1 id="train-title">Train a model</h1>
      <form className="card" onSubmit={start} aria-label="Training settings">
        <div className="fields">
          <label className="field">
            <span>Dataset</span>
            <select name="dataset" value={dataset} onChange={(e) => setDataset(e.target.value)} required>
              {datasets.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name} ({fmtNum(d.rows)} rows, {shortId(d.id)})
                </option>
              ))}
            </select>
          </label>
          <fieldset className="field">
            <legend>Mode</legend>
            <label>
              <input type="radio" name="mode" checked={mode === 'full'} onChange={() => setMode('full')} /> Full training
            </label>
            <label>
              <input type="radio" name="mode" checked={mode === 'warm'} onChange={() => setMode('warm')} disabled={models.length === 0} /> Warm start from a
              model
            </label>
          </fieldset>
          {mode === 'warm' && (
            <label className="field">
              <span>Continue from</span>
              <select value={warmFrom} onChange={(e) => setWarmFrom(e.target.value)}>
                <option value="champion">The champion</option>
                {models.map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.name} ({shortId(m.id)}, {m.status})
                  </option>
                ))}
              </select>
            </label>
          )}
          <label className="field">
            <span>Cross-validation folds</span>
            <input name="folds" inputMode="numeric" value={folds} onChange={(e) => setFolds(e.target.value)} />
          </label>
          {(Object.keys(params) as (keyof typeof params)[]).map((k) => (
            <label className="field" key={k}>
              <span>{k.replace(/_/g, ' ')}</span>
              <input name={k} inputMode="decimal" value={params[k]} onChange={(e) => setParams({ ...params, [k]: e.target.value })} />
            </label>
          ))}
          <label className="field">
            <span>Model name (optional)</span>
            <input name="name" value={name} onChange={(e) => setName(e.target.value)} />
          </label>
        </div>
        <div className="actions">
          <button type="submit" disabled={running || !dataset} data-testid="train-start">
            {running ? 'Training…' : 'Start training'}
          </button>
          {running && (
            <button type="button" className="secondary" onClick={() => void job.cancel()} data-testid="train-cancel">
              Cancel
            </button>
          )}
          <span className="muted small">Early stopping ends each fit when the validation loss stops improving. The new model lands as a challenger.</span>
        </div>
      </form>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <ErrorBanner error={job.error} onDismiss={job.reset} />
      {job.state === 'cancelled' && <CancelledNotice what="The training" onDismiss={job.reset} />}
      {(running || progress) && (
        <div className="card" data-testid="train-progress" data-state={job.state} data-curve-fit={curve.fit} data-curve-points={curve.points.length}>
          <ProgressBar
            value={job.state === 'done' ? 1 : frac}
            label={job.state === 'done' || job.state === 'failed' || job.state === 'cancelled' ? ENDED[job.state] : label}
          />
          <ChartCanvas config={chartConfig} update={updateChart} label="Training and validation loss per boosting round" height={220} />
        </div>
      )}
      {result && (
        <div className="card" data-testid="train-result">
          <div className="row-between">
            <h2>
              {result.name} <code>{shortId(result.modelId)}</code> <span className="badge challenger">challenger</span>
            </h2>
            <button onClick={() => void promote()} data-testid="train-promote">
              Promote to champion
            </button>
          </div>
          {notice && (
            <p className="notice" role="status">
              {notice}
            </p>
          )}
          {result.outOfTime && (
            // Out of time first: valuations are made after the last sale, which random folds never test.
            <div data-testid="train-out-of-time">
              <h3>Out of time: later sales predicted from earlier ones</h3>
              <div className="metrics">
                <Metric label="Median error" value={fmtPct(result.outOfTime.mdape)} />
                <Metric label="RMSE (log)" value={result.outOfTime.rmseLog.toFixed(4)} />
                <Metric label="Median ratio per block" value={result.outOfTime.folds.map((f) => f.medianRatio.toFixed(3)).join(' · ')} />
                <Metric label="COD" value={result.outOfTime.cod.toFixed(2)} />
              </div>
              <p className="muted small">
                {result.outOfTime.scheme}
                {result.market ? `; market conditions from a local price index (reference ${result.market.reference})` : ''}.
              </p>
              <h3>Random folds</h3>
            </div>
          )}
          <div className="metrics">
            <Metric label="Median error" value={fmtPct(result.cv.mdape)} />
            <Metric label="Within 10 %" value={fmtPct(result.cv.within10)} />
            <Metric label="RMSE (log)" value={result.cv.rmseLog.toFixed(4)} />
            <Metric label="Mean abs. error" value={money.format(result.cv.mae)} />
            <Metric label="COD" value={result.cv.cod.toFixed(2)} />
            <Metric label="Trees" value={String(result.nTrees)} />
            <Metric label="Training time" value={`${result.trainSeconds.toFixed(1)} s`} />
          </div>
          <p className="muted small">
            Measured by {result.cv.scheme} cross-validation on {fmtNum(result.cv.n)} sales. Range coverage on unseen sales:{' '}
            {result.intervals.map((iv) => `${Math.round(iv.level * 100)} % → ${fmtPct(iv.empiricalCoverage)}`).join(', ')}.
          </p>
        </div>
      )}
    </section>
  );
}

function Metric({ label, value }: { label: string; value: string }) {
  return (
    <div className="metric">
      <div className="muted small">{label}</div>
      <div className="metric-value">{value}</div>
    </div>
  );
}
