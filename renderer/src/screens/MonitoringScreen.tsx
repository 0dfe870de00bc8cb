import { useCallback, useEffect, useMemo, useState } from 'react';
import type { ChartConfiguration } from 'chart.js';
import type { MethodOutput } from '../../../core/contract/contract.js';
import { useApp } from '../app-context.js';
import { api } from '../api-client.js';
import { ApiCallError } from '../api-error.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { ChartCanvas, themeColors } from '../components/ChartCanvas.js';
import { fmtDate, fmtPct, shortId } from '../format.js';
import { RetrainingCard, ReviewQueueCard, StoredAlertsCard } from './MonitoringWorkflows.js';

type Report = MethodOutput<'monitoring.report'>;
type Study = NonNullable<Report['accuracy']>;

const WINDOWS: { label: string; days: number | null }[] = [
  { label: 'All logged valuations', days: null },
  { label: 'Last 7 days', days: 7 },
  { label: 'Last 30 days', days: 30 },
  { label: 'Last 90 days', days: 90 },
];

const n3 = (x: number | null) => (x === null ? '—' : x.toFixed(3));

/**
 * The Monitoring page: the champion's monitoring report (the same document as `appraise monitor report --json`):
 * alerts, drift per feature against the training reference with the PSI thresholds, data quality, and the ratio
 * study with vertical (price tier) and horizontal (group) equity against the IAAO ranges; then the stored alerts
 * to acknowledge, the random sample review queue with its verdict form, and retraining (Retrain now, history).
 */
export function MonitoringScreen() {
  const { info } = useApp();
  const [days, setDays] = useState<number | null>(null);
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const champion = info?.champion ?? null;

  const load = useCallback(async () => {
    setLoading(true);
    setError(null);
    try {
      const since = days === null ? undefined : new Date(Date.now() - days * 86_400_000).toISOString();
      setReport(await api.call('monitoring.report', since ? { since } : {}));
    } catch (e) {
      setReport(null);
      setError(e);
    } finally {
      setLoading(false);
    }
  }, [days]);
  useEffect(() => {
    if (champion) void load();
  }, [champion, load]);

  if (!champion) {
    return (
      <section aria-labelledby="monitoring-title">
        <h1 id="monitoring-title">Monitoring</h1>
        <div className="card">
          <p>Monitoring follows the champion model. Promote a model on the Models screen; every valuation it makes is then logged and checked here.</p>
        </div>
      </section>
    );
  }
  const notFound = error instanceof ApiCallError && error.code === 'NOT_FOUND';
  return (
    <section aria-labelledby="monitoring-title">
      <div className="row-between">
        <h1 id="monitoring-title">
          Monitoring{' '}
          {report && report.alerts.length > 0 && (
            <span className="badge alert-count" data-testid="alert-badge" aria-label={`${report.alerts.length} alerts`}>
              {report.alerts.length}
            </span>
          )}
        </h1>
        <div>
          <label>
            Window{' '}
            <select value={days ?? ''} onChange={(e) => setDays(e.target.value === '' ? null : Number(e.target.value))}>
              {WINDOWS.map((w) => (
                <option key={w.label} value={w.days ?? ''}>
                  {w.label}
                </option>
              ))}
            </select>
          </label>{' '}
          <button onClick={() => void load()} disabled={loading}>
            {loading ? 'Checking…' : 'Refresh'}
          </button>
        </div>
      </div>
      {!notFound && <ErrorBanner error={error} onDismiss={() => setError(null)} />}
      {report && <ReportView report={report} />}
      {/* The workflows read their own methods: they stay usable while the report reloads. */}
      <StoredAlertsCard />
      {report?.review && <ReviewQueueCard onRecorded={() => void load()} />}
      <RetrainingCard onDone={() => void load()} />
    </section>
  );
}

function ReportView({ report: r }: { report: Report }) {
  return (
    <>
      <p className="muted" data-testid="monitoring-summary">
        Model {r.model.name} ({shortId(r.model.id)}): {r.predictions} valuation(s) logged, {r.sold} with a sale price. Report of {fmtDate(r.generatedAt)}.
      </p>
      <div className="card" data-testid="alerts">
        <h2>Alerts</h2>
        {r.alerts.length === 0 ? (
          <p className="muted">No alerts: inputs look like the training data{r.sold ? ', and the ratio study is within its ranges' : ''}.</p>
        ) : (
          <ul>
            {r.alerts.map((a, i) => (
              <li key={i}>
                <span className={a.severity === 'alert' ? 'badge alert' : 'badge warning'}>{a.severity}</span> {a.message}
              </li>
            ))}
          </ul>
        )}
      </div>
      <LabelFreeCard report={r} />
      <div className="card">
        <h2>Drift per feature</h2>
        <p className="muted small">
          Population stability index of the logged inputs against the training data, with the warning ({r.thresholds.drift.psi.warn}) and alert (
          {r.thresholds.drift.psi.alert}) thresholds. Features computed from the sale date alone are not checked: they move with time by design.
        </p>
        <DriftChart report={r} />
        {r.drift.prediction && (
          <p>
            Estimates against the model's out-of-fold estimates: PSI {n3(r.drift.prediction.psi)} ({r.drift.prediction.status}).
            {r.drift.datasetDrift && <strong> The dataset drifted: {fmtPct(r.drift.driftedShare)} of the checked features are at alert level.</strong>}
          </p>
        )}
      </div>
      {r.timeline.length > 1 && (
        <div className="card">
          <h2>Over time</h2>
          <p className="muted small">
            Per day (per week beyond 60 days): the largest significant PSI of any checked feature, and the median ratio of the sales linked so far.
          </p>
          <TimelineChart report={r} />
        </div>
      )}
      <QualityTable report={r} />
      {r.review && (
        <div className="card" data-testid="review-summary">
          <h2>Random sample review</h2>
          <p>
            {r.review.drawn} of {r.review.valuations} valuation(s) drawn for review (share {fmtPct(r.review.share)}), {r.review.reviewed} reviewed
            {r.review.reviewedShare === null ? '' : ` (${fmtPct(r.review.reviewedShare)})`}.
            {r.review.agreementRate !== null &&
              ` Agreement ${fmtPct(r.review.agreementRate)}: ${r.review.agree} agree, ${r.review.adjust} adjust, ${r.review.disagree} disagree.`}
            {r.review.meanAdjustment !== null && ` Mean adjustment ${fmtPct(r.review.meanAdjustment)}.`}
          </p>
          <p className="muted small">Record verdicts below (or with `appraise monitor review record`).</p>
        </div>
      )}
      <div className="card" data-testid="ratio-study">
        <h2>Ratio study</h2>
        {r.accuracy ? (
          <RatioStudyTable report={r} />
        ) : (
          <p className="muted">No sale prices linked yet. Link them with `appraise monitor sales &lt;file.csv&gt;`.</p>
        )}
      </div>
    </>
  );
}

/** Accuracy before sale prices (the label-free estimate) and the challengers scored in shadow. */
function LabelFreeCard({ report: r }: { report: Report }) {
  const lf = r.labelFree;
  if (!lf && r.shadow.length === 0) return null;
  return (
    <div className="card" data-testid="label-free">
      <h2>Accuracy before sale prices</h2>
      {lf?.unavailable && <p className="muted">Not available: {lf.unavailable}.</p>}
      {lf?.estimated && lf.reference && (
        <p>
          Estimated from the inputs of {lf.n} valuation(s): typical error (MdAPE) about {fmtPct(lf.estimated.mdape)} (95 % band {fmtPct(lf.estimated.mdapeLow)}–
          {fmtPct(lf.estimated.mdapeHigh)}), against {fmtPct(lf.reference.mdape)} on the sales held out in training; RMSE of log price{' '}
          {n3(lf.estimated.rmseLog)} vs {n3(lf.reference.rmseLog)}.
          {lf.realised && (
            <>
              {' '}
              Realised on the {lf.realised.n} sale(s) linked so far: MdAPE {fmtPct(lf.realised.mdape)}, RMSE {n3(lf.realised.rmseLog)}.
            </>
          )}
        </p>
      )}
      {r.shadow.map((c) => (
        <p key={c.challenger.id} data-testid="shadow-challenger">
          Challenger {c.challenger.name} ({shortId(c.challenger.id)}), scored in shadow on {c.scored} valuation(s): <strong>{c.verdict}</strong> — {c.message}
        </p>
      ))}
    </div>
  );
}

function DriftChart({ report: r }: { report: Report }) {
  const config = useMemo<ChartConfiguration>(() => {
    const c = themeColors();
    const shown = r.drift.features.filter((f) => f.checked);
    const colour = (s: string) => (s === 'alert' ? c.bad : s === 'warning' ? c.accent : c.good);
    const line = (label: string, y: number, color: string) => ({
      type: 'line' as const,
      label,
      data: shown.map(() => y),
      borderColor: color,
      borderDash: [6, 4],
      pointRadius: 0,
      borderWidth: 1.5,
    });
    return {
      type: 'bar',
      data: {
        labels: shown.map((f) => f.feature),
        datasets: [
          { type: 'bar' as const, label: 'PSI', data: shown.map((f) => Math.min(f.psi, 1)), backgroundColor: shown.map((f) => colour(f.status)) },
          line(`warning ${r.thresholds.drift.psi.warn}`, r.thresholds.drift.psi.warn, c.accent),
          line(`alert ${r.thresholds.drift.psi.alert}`, r.thresholds.drift.psi.alert, c.bad),
        ],
      },
      options: {
        plugins: { tooltip: { callbacks: { label: (item) => `PSI ${Number(shown[item.dataIndex]?.psi ?? item.raw).toFixed(3)}` } } },
        scales: { y: { beginAtZero: true, suggestedMax: 0.3, title: { display: true, text: 'PSI (capped at 1)' } } },
      },
    } as ChartConfiguration;
  }, [r]);
  return <ChartCanvas config={config} label="Population stability index per feature, with warning and alert thresholds" height={260} />;
}

function TimelineChart({ report: r }: { report: Report }) {
  const config = useMemo<ChartConfiguration>(() => {
    const c = themeColors();
    return {
      type: 'line',
      data: {
        labels: r.timeline.map((b) => b.start),
        datasets: [
          { label: 'largest PSI', data: r.timeline.map((b) => b.maxPsi), borderColor: c.bad, yAxisID: 'psi', spanGaps: true },
          { label: 'median ratio', data: r.timeline.map((b) => b.medianRatio), borderColor: c.accent, yAxisID: 'ratio', spanGaps: true },
        ],
      },
      options: {
        scales: {
          psi: { position: 'left', beginAtZero: true, suggestedMax: 0.3, title: { display: true, text: 'PSI' } },
          ratio: { position: 'right', suggestedMin: 0.8, suggestedMax: 1.2, grid: { drawOnChartArea: false }, title: { display: true, text: 'median ratio' } },
        },
      },
    };
  }, [r]);
  return <ChartCanvas config={config} label="Largest feature PSI and median sales ratio over time" height={220} />;
}

function QualityTable({ report: r }: { report: Report }) {
  const rows = r.quality.filter((q) => q.problemShare > 0 || q.missingShare > 0);
  return (
    <div className="card">
      <h2>Data quality</h2>
      {rows.length === 0 ? (
        <p className="muted">Every input was complete and every category known to the model.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Feature</th>
              <th>Missing</th>
              <th>In training</th>
              <th>Unseen categories</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((q) => (
              <tr key={q.feature}>
                <td>{q.feature}</td>
                <td>{fmtPct(q.missingShare)}</td>
                <td>{fmtPct(q.referenceMissingShare)}</td>
                <td>{fmtPct(q.unseenShare)}</td>
                <td>{q.status}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function RatioStudyTable({ report: r }: { report: Report }) {
  const t = r.thresholds.accuracy;
  const groups: { label: string; s: Study }[] = [
    { label: 'All sold properties', s: r.accuracy! },
    ...r.equity.priceTiers.map((g) => ({ label: `Sale price ${g.group}`, s: g })),
    ...(r.equity.groupBy?.groups ?? []).map((g) => ({ label: `${r.equity.groupBy!.column} ${g.group}`, s: g })),
  ];
  return (
    <table>
      <thead>
        <tr>
          <th>Group</th>
          <th>Sales</th>
          <th>
            Median ratio ({t.medianRatio.low}–{t.medianRatio.high})
          </th>
          <th>COD (≤ {t.codMax})</th>
          <th>
            PRD ({t.prd.low}–{t.prd.high})
          </th>
          <th>PRB (±{t.prbMax})</th>
          <th>Within 10 %</th>
          <th>Status</th>
        </tr>
      </thead>
      <tbody>
        {groups.map(({ label, s }) => (
          <tr key={label} className={s.status === 'alert' ? 'row-alert' : undefined}>
            <td>{label}</td>
            <td>{s.n}</td>
            <td>{n3(s.medianRatio)}</td>
            <td>{s.cod.toFixed(1)}</td>
            <td>{n3(s.prd)}</td>
            <td>{n3(s.prb)}</td>
            <td>{fmtPct(s.within10)}</td>
            <td>{s.status}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
