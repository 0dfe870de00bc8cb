import { useEffect, useMemo, useRef, useState } from 'react';
import type { Chart, ChartConfiguration } from 'chart.js';
import type { JobProgress, JobResult, MethodOutput } from '../../../core/api/contract.js';
import type { AppContext } from '../App.js';
import { api } from '../api-client.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { ChartCanvas, themeColors } from '../components/ChartCanvas.js';
import { fmtMoney, fmtNum, fmtPct, shortId } from '../format.js';

type Progress = JobProgress<'train'>;
type Result = JobResult<'train'>;

const PHASES: Record<Progress['phase'], string> = {
  loading: 'Loading the data',
  'cross-validation': 'Cross-validation',
  'final-model': 'Fitting the final model on all the data',
  export: 'Exporting to ONNX',
};

export function TrainScreen({ ctx }: { ctx: AppContext }) {
  const [datasets, setDatasets] = useState<MethodOutput<'datasets.list'>>([]);
  const [models, setModels] = useState<MethodOutput<'models.list'>>([]);
  const [dataset, setDataset] = useState('');
  const [mode, setMode] = useState<'full' | 'warm'>('full');
  const [warmFrom, setWarmFrom] = useState('champion');
  const [params, setParams] = useState({ n_rounds: '300', learning_rate: '0.05', max_leaves: '31', min_samples_leaf: '20' });
  const [folds, setFolds] = useState('5');
  const [name, setName] = useState('');
  const [jobId, setJobId] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [result, setResult] = useState<Result | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const curve = useRef<{ fold: number; points: { x: number; train?: number; valid?: number }[] }>({ fold: -1, points: [] });

  useEffect(() => {
    api.call('datasets.list', {}).then((d) => {
      setDatasets(d);
      // Default: the champion's training data (retraining it is the usual case), else the newest dataset.
      const preferred = d.find((x) => x.id === ctx.info?.champion?.datasetId) ?? d[0];
      if (preferred) setDataset((cur) => cur || preferred.id);
    }, setError);
    api.call('models.list', {}).then(setModels, () => undefined);
  }, [ctx.info?.champion?.datasetId]);

  const onProgress = (p: Progress) => {
    const key = p.phase === 'cross-validation' ? (p.fold ?? 0) : 1000;
    if (curve.current.fold !== key) curve.current = { fold: key, points: [] };
    if (p.round !== undefined && (p.trainLoss !== undefined || p.validLoss !== undefined)) {
      const pts = curve.current.points;
      if (pts.length === 0 || pts[pts.length - 1].x !== p.round) pts.push({ x: p.round, train: p.trainLoss, valid: p.validLoss });
    }
    setProgress(p);
  };

  const start = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    setResult(null);
    setNotice(null);
    setProgress(null);
    curve.current = { fold: -1, points: [] };
    setRunning(true);
    try {
      const p: Record<string, number> = {};
      for (const [k, v] of Object.entries(params)) if (v.trim() !== '') p[k] = Number(v);
      const r = await api.runJob(
        'train',
        { dataset, folds: Number(folds), params: p, ...(mode === 'warm' ? { warmStart: warmFrom } : {}), ...(name.trim() ? { name: name.trim() } : {}) },
        { onProgress, started: setJobId },
      );
      setResult(r);
      setModels(await api.call('models.list', {}));
    } catch (err) {
      setError(err);
    } finally {
      setRunning(false);
      setJobId(null);
    }
  };

  const promote = async () => {
    if (!result) return;
    try {
      await api.call('models.promote', { ref: result.modelId });
      setNotice(`${result.name} is now the champion.`);
      await ctx.refreshInfo();
    } catch (err) {
      setError(err);
    }
  };

  const chartConfig = useMemo<ChartConfiguration>(() => {
    const c = themeColors();
    return {
      type: 'line',
      data: { datasets: [{ label: 'Validation loss', data: [], borderColor: c.accent, pointRadius: 0 }, { label: 'Training loss', data: [], borderColor: c.muted, pointRadius: 0, borderDash: [4, 3] }] },
      options: { parsing: false, scales: { x: { type: 'linear', title: { display: true, text: 'Boosting round' } }, y: { title: { display: true, text: 'Loss (log price)' } } } },
    };
  }, []);
  const updateChart = (chart: Chart) => {
    const pts = curve.current.points;
    chart.data.datasets[0].data = pts.filter((p) => p.valid !== undefined).map((p) => ({ x: p.x, y: p.valid! }));
    chart.data.datasets[1].data = pts.filter((p) => p.train !== undefined).map((p) => ({ x: p.x, y: p.train! }));
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
              <input type="radio" name="mode" checked={mode === 'warm'} onChange={() => setMode('warm')} disabled={models.length === 0} /> Warm start from a model
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
          {running && jobId && (
            <button type="button" className="secondary" onClick={() => void api.call('jobs.cancel', { jobId })}>
              Cancel
            </button>
          )}
          <span className="muted small">Early stopping ends each fit when the validation loss stops improving. The new model lands as a challenger.</span>
        </div>
      </form>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {(running || progress) && (
        <div className="card" data-testid="train-progress">
          <ProgressBar value={running ? frac : 1} label={running ? label : 'Finished'} />
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
          <div className="metrics">
            <Metric label="Median error" value={fmtPct(result.cv.mdape)} />
            <Metric label="Within 10 %" value={fmtPct(result.cv.within10)} />
            <Metric label="RMSE (log)" value={result.cv.rmseLog.toFixed(4)} />
            <Metric label="Mean abs. error" value={fmtMoney(result.cv.mae)} />
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
