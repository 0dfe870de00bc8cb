import { useCallback, useEffect, useMemo, useState } from 'react';
import type { ChartConfiguration } from 'chart.js';
import type { MethodOutput } from '../../../core/contract/contract.js';
import { useApp } from '../app-context.js';
import { api } from '../api-client.js';
import { ApiCallError } from '../api-error.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { ChartCanvas, themeColors } from '../components/ChartCanvas.js';

type View = MethodOutput<'market.index'>;
type Series = View['index']['whole'];

/** Index level with the reference period at 100, as price indices are read. */
const level = (logIndex: number) => 100 * Math.exp(logIndex);
const signedPct = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)} %`;

/**
 * The Market page: the local price index the champion's valuations use (or a dataset's, estimated on all its
 * sales), per region, as a line with its 95 % band and the nowcast past the last sale (dashed, with its own
 * widening band), the sales behind each period as bars, and the index's month-on-month change.
 */
export function MarketScreen() {
  const { info } = useApp();
  const [datasets, setDatasets] = useState<MethodOutput<'datasets.list'>>([]);
  const [source, setSource] = useState<string>('champion');
  const [view, setView] = useState<View | null>(null);
  const [region, setRegion] = useState<string>('');
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const champion = info?.champion ?? null;

  useEffect(() => {
    api.call('datasets.list', {}).then(setDatasets, setError);
  }, []);
  const load = useCallback(async () => {
    setLoading(true);
    setError(null);
    try {
      setView(await api.call('market.index', source === 'champion' ? {} : { dataset: source }));
    } catch (e) {
      setView(null);
      setError(e);
    } finally {
      setLoading(false);
    }
  }, [source]);
  useEffect(() => {
    if (source !== 'champion' || champion) void load();
  }, [source, champion, load]);

  const series: Series | null = view ? (region === '' ? view.index.whole : (view.index.regions.find((r) => r.region === region) ?? view.index.whole)) : null;
  const forecast = view && series ? (view.forecasts.find((f) => f.region === series.region)?.points ?? []) : [];
  const notFound = error instanceof ApiCallError && error.code === 'NOT_FOUND';
  return (
    <section aria-labelledby="market-title">
      <div className="row-between">
        <h1 id="market-title">Market</h1>
        <div>
          <label>
            Index of{' '}
            <select value={source} onChange={(e) => setSource(e.target.value)} aria-label="Index source">
              <option value="champion">the champion model{champion ? ` (${champion.name})` : ''}</option>
              {datasets.map((d) => (
                <option key={d.id} value={d.id}>
                  dataset {d.name}
                </option>
              ))}
            </select>
          </label>{' '}
          {view && view.index.regions.length > 0 && (
            <label>
              Region{' '}
              <select value={region} onChange={(e) => setRegion(e.target.value)} aria-label="Region">
                <option value="">whole file</option>
                {view.index.regions.map((r) => (
                  <option key={r.region} value={r.region ?? ''}>
                    {r.region} ({r.sales} sales)
                  </option>
                ))}
              </select>
            </label>
          )}{' '}
          <button onClick={() => void load()} disabled={loading}>
            {loading ? 'Loading…' : 'Refresh'}
          </button>
        </div>
      </div>
      {source === 'champion' && !champion && (
        <div className="card">
          <p>The Market page shows the price index of the champion model. Promote a model on the Models screen, or pick a dataset above.</p>
        </div>
      )}
      {notFound ? (
        <div className="card">
          <p>{(error as ApiCallError).message}</p>
        </div>
      ) : (
        <ErrorBanner error={error} />
      )}
      {view && series && (
        <>
          <p className="muted" data-testid="market-summary">
            {view.source.kind === 'model' ? 'Model' : 'Dataset'} {view.source.name}: a hedonic time-dummy index over {view.index.nSales.toLocaleString()} sales,
            holding {view.index.controls.join(', ')} constant; {view.index.reference} = 100, last sale {view.index.lastSaleDate}. Valuations up to{' '}
            {view.index.maxNowcastPeriods} {view.index.period}(s) after it are nowcast; later ones are refused until the model is retrained.
            {series.shrinkage !== null && ` This region keeps ${Math.round(series.shrinkage * 100)} % of its own movement; the rest is the whole file's.`}
          </p>
          <div className="card">
            <h2>Price index{series.region ? ` — ${series.region}` : ''}</h2>
            <IndexChart series={series} forecast={forecast} repeat={region === '' ? view.index.repeatSales : null} />
          </div>
          <div className="card">
            <h2>Sales per {view.index.period}</h2>
            <VolumeChart series={series} />
          </div>
          <div className="card">
            <h2>Change on the previous {view.index.period}</h2>
            <ChangeTable series={series} />
          </div>
        </>
      )}
    </section>
  );
}

function IndexChart({ series, forecast, repeat }: { series: Series; forecast: View['forecasts'][number]['points']; repeat: View['index']['repeatSales'] }) {
  const config = useMemo<ChartConfiguration>(() => {
    const c = themeColors();
    const labels = [...series.points.map((p) => p.period), ...forecast.map((p) => p.period)];
    const pad = (n: number) => Array<number | null>(n).fill(null);
    const last = series.points[series.points.length - 1];
    const inData = series.points.map((p) => level(p.logIndex));
    // The nowcast starts at the last period so the two lines join.
    const ahead = [...pad(series.points.length - 1), level(last.logIndex), ...forecast.map((p) => level(p.logIndex))];
    const z = 1.96;
    return {
      type: 'line',
      data: {
        labels,
        datasets: [
          {
            label: '95 % band',
            data: [...series.points.map((p) => level(p.logIndex + z * p.se)), ...forecast.map((p) => level(p.logIndex + z * p.sd))],
            borderWidth: 0,
            pointRadius: 0,
            backgroundColor: c.band,
            fill: '+1',
            // Drawn beneath the lines (chart.js draws lower `order` on top).
            order: 10,
          },
          {
            label: '95 % band (low)',
            data: [...series.points.map((p) => level(p.logIndex - z * p.se)), ...forecast.map((p) => level(p.logIndex - z * p.sd))],
            borderWidth: 0,
            pointRadius: 0,
            order: 10,
          },
          { label: 'Index', data: [...inData, ...pad(forecast.length)], borderColor: c.accent, backgroundColor: c.accent, pointRadius: 2 },
          { label: 'Nowcast', data: ahead, borderColor: c.accent, borderDash: [6, 4], pointRadius: 0 },
          ...(repeat
            ? [
                {
                  label: `Repeat sales (${repeat.pairs} pairs)`,
                  data: [...repeat.points.map((p) => level(p.logIndex)), ...pad(forecast.length)],
                  borderColor: c.muted,
                  pointRadius: 0,
                },
              ]
            : []),
        ],
      },
      options: {
        plugins: { legend: { labels: { filter: (item) => !String(item.text).startsWith('95 % band (low)') } } },
        scales: { y: { title: { display: true, text: 'index (reference = 100)' } } },
      },
    } as ChartConfiguration;
  }, [series, forecast, repeat]);
  return <ChartCanvas config={config} label="Price index per period with its 95 % band and the nowcast after the last sale" />;
}

function VolumeChart({ series }: { series: Series }) {
  const config = useMemo<ChartConfiguration>(() => {
    const c = themeColors();
    return {
      type: 'bar',
      data: { labels: series.points.map((p) => p.period), datasets: [{ label: 'Sales', data: series.points.map((p) => p.sales), backgroundColor: c.muted }] },
      options: { plugins: { legend: { display: false } } },
    } as ChartConfiguration;
  }, [series]);
  return <ChartCanvas config={config} label="Number of sales per period" height={180} />;
}

function ChangeTable({ series }: { series: Series }) {
  const rows = series.points.slice(1).map((p, i) => ({ period: p.period, change: Math.exp(p.logIndex - series.points[i].logIndex) - 1, sales: p.sales }));
  return (
    <table className="table" data-testid="market-changes">
      <thead>
        <tr>
          <th>Period</th>
          <th>Change</th>
          <th>Sales</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.period}>
            <td>{r.period}</td>
            <td className={r.change >= 0 ? 'good' : 'bad'}>{signedPct(r.change)}</td>
            <td>{r.sales}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
