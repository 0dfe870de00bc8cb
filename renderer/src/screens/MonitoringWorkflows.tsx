import { useCallback, useEffect, useState } from 'react';
import type { MethodOutput } from '../../../core/contract/contract.js';
import { useMoney } from '../app-context.js';
import { api } from '../api-client.js';
import { ApiCallError } from '../api-error.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { CancelledNotice } from '../components/CancelledNotice.js';
import { useJob } from '../jobs/use-job.js';
import { fmtDate, shortId } from '../format.js';
import { ALERTS_CHANGED_EVENT } from '../alert-events.js';

type StoredAlert = MethodOutput<'monitoring.alerts'>[number];
type ReviewSample = MethodOutput<'monitoring.reviews'>[number];
type RetrainingRun = MethodOutput<'monitoring.retrainingRuns'>[number];

/**
 * The alerts the monitoring checks stored (the periodic check, `appraise monitor alerts --check`), each
 * acknowledged with an optional note by whoever deals with it; every acknowledgement is in the audit trail.
 */
export function StoredAlertsCard() {
  const [alerts, setAlerts] = useState<StoredAlert[] | null>(null);
  const [notes, setNotes] = useState<Record<number, string>>({});
  const [busy, setBusy] = useState<number | null>(null);
  const [checking, setChecking] = useState(false);
  const [checked, setChecked] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    try {
      setAlerts(await api.call('monitoring.alerts', { limit: 200 }));
    } catch (e) {
      setError(e);
    }
  }, []);
  useEffect(() => void load(), [load]);

  // Check now: the same check as `appraise monitor alerts --check` (analyst only; core refuses an appraiser in words).
  const checkNow = async () => {
    setChecking(true);
    setChecked(null);
    setError(null);
    try {
      setChecked((await api.call('monitoring.checkAlerts', {})).length);
      await load();
      window.dispatchEvent(new Event(ALERTS_CHANGED_EVENT));
    } catch (e) {
      setError(e);
    } finally {
      setChecking(false);
    }
  };

  const acknowledge = async (id: number) => {
    setBusy(id);
    setError(null);
    try {
      const note = notes[id]?.trim();
      const updated = await api.call('monitoring.acknowledgeAlert', { id, ...(note ? { note } : {}) });
      setAlerts((list) => list?.map((a) => (a.id === id ? updated : a)) ?? null);
      window.dispatchEvent(new Event(ALERTS_CHANGED_EVENT));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const open = alerts?.filter((a) => !a.acknowledged).length ?? 0;
  return (
    <div className="card" data-testid="stored-alerts">
      <div className="row-between">
        <h2>Alerts raised by the checks</h2>
        <button onClick={() => void checkNow()} disabled={checking} data-testid="check-now">
          {checking ? 'Checking…' : 'Check now'}
        </button>
      </div>
      {checked !== null && (
        <p className="notice" role="status" data-testid="check-result">
          {checked === 0
            ? 'Checked all valuations of the champion: no alert.'
            : `Checked all valuations of the champion: ${checked} alert(s) raised and stored.`}
        </p>
      )}
      <p className="muted small">
        The periodic monitoring check stores the alerts it raises; Check now runs it at once over all of the champion's valuations. Acknowledge one when you
        have seen it and know what is being done; your name, the time and the note go into the audit trail.
      </p>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {alerts === null ? null : alerts.length === 0 ? (
        <p className="muted">No check has raised an alert yet.</p>
      ) : (
        <>
          <p>{open === 0 ? 'Every alert has been acknowledged.' : `${open} alert(s) not yet acknowledged.`}</p>
          <table>
            <thead>
              <tr>
                <th>Raised</th>
                <th>Severity</th>
                <th>Alert</th>
                <th>Acknowledged</th>
              </tr>
            </thead>
            <tbody>
              {alerts.map((a) => (
                <tr key={a.id} data-testid="stored-alert" data-acknowledged={a.acknowledged ? 'yes' : 'no'}>
                  <td>{fmtDate(a.raisedAt)}</td>
                  <td>
                    <span className={a.severity === 'alert' ? 'badge alert' : 'badge warning'}>{a.severity}</span>
                  </td>
                  <td>{a.message}</td>
                  <td>
                    {a.acknowledged ? (
                      <span>
                        by {a.acknowledged.by}, {fmtDate(a.acknowledged.at)}
                        {a.acknowledged.note ? ` — ${a.acknowledged.note}` : ''}
                      </span>
                    ) : (
                      <span className="inline-form">
                        <input
                          aria-label={`Note for alert ${a.id}`}
                          placeholder="note (optional)"
                          maxLength={1000}
                          value={notes[a.id] ?? ''}
                          onChange={(e) => setNotes((n) => ({ ...n, [a.id]: e.target.value }))}
                        />{' '}
                        <button onClick={() => void acknowledge(a.id)} disabled={busy !== null} aria-label={`Acknowledge alert ${a.id}`}>
                          {busy === a.id ? 'Saving…' : 'Acknowledge'}
                        </button>
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}

type Verdict = 'agree' | 'adjust' | 'disagree';

/**
 * The random sample review queue (the AVM rule's random sample testing): the valuations drawn for review, each
 * with a verdict form — agree, adjust (with the reviewer's value) or disagree, and notes. A verdict is a record:
 * saved once, audited, never changed.
 */
export function ReviewQueueCard({ onRecorded }: { onRecorded?: () => void }) {
  const money = useMoney();
  const [samples, setSamples] = useState<ReviewSample[] | null>(null);
  const [forbidden, setForbidden] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    try {
      setSamples(await api.call('monitoring.reviews', { status: 'all', limit: 100 }));
    } catch (e) {
      // An appraiser's session may not see which valuations were drawn (the reviewer is someone else): no card.
      if (e instanceof ApiCallError && e.code === 'FORBIDDEN') setForbidden(true);
      else setError(e);
    }
  }, []);
  useEffect(() => void load(), [load]);
  if (forbidden) return null;
  const open = samples?.filter((x) => !x.review) ?? [];
  const reviewed = samples?.filter((x) => x.review) ?? [];
  return (
    <div className="card" data-testid="review-queue">
      <h2>Valuations drawn for review</h2>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {samples !== null && samples.length === 0 && <p className="muted">No valuation has been drawn for review yet.</p>}
      {open.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Drawn</th>
              <th>Property</th>
              <th>Estimate</th>
              <th>Your verdict</th>
            </tr>
          </thead>
          <tbody>
            {open.map((x) => (
              <tr key={x.predictionId} data-testid="review-open">
                <td>{fmtDate(x.drawnAt)}</td>
                <td>{x.propertyId ?? <code>{shortId(x.predictionId)}</code>}</td>
                <td>{money.format(x.estimate)}</td>
                <td>
                  <VerdictForm
                    sample={x}
                    onSaved={(saved) => {
                      setSamples((list) => list?.map((s) => (s.predictionId === saved.predictionId ? saved : s)) ?? null);
                      onRecorded?.();
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {reviewed.length > 0 && (
        <>
          <h3>Reviewed</h3>
          <table>
            <thead>
              <tr>
                <th>Property</th>
                <th>Estimate</th>
                <th>Verdict</th>
                <th>By</th>
                <th>Notes</th>
              </tr>
            </thead>
            <tbody>
              {reviewed.map((x) => (
                <tr key={x.predictionId} data-testid="review-done">
                  <td>{x.propertyId ?? <code>{shortId(x.predictionId)}</code>}</td>
                  <td>{money.format(x.estimate)}</td>
                  <td>
                    {x.review!.verdict}
                    {x.review!.adjustedValue !== null ? ` to ${money.format(x.review!.adjustedValue)}` : ''}
                  </td>
                  <td>
                    {x.review!.by}, {fmtDate(x.review!.at)}
                  </td>
                  <td>{x.review!.notes ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}

function VerdictForm({ sample, onSaved }: { sample: ReviewSample; onSaved: (s: ReviewSample) => void }) {
  const [verdict, setVerdict] = useState<Verdict>('agree');
  const [amount, setAmount] = useState('');
  const [notes, setNotes] = useState('');
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const id = sample.predictionId;
  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    setSaving(true);
    setError(null);
    try {
      // The amount goes as typed (without separators): core says in words what is wrong with it.
      const value = verdict === 'adjust' ? Number(amount.replace(/[,\s$]/g, '')) : undefined;
      onSaved(
        await api.call('monitoring.recordReview', {
          predictionId: id,
          verdict,
          ...(value !== undefined ? { amount: value } : {}),
          ...(notes.trim() ? { notes: notes.trim() } : {}),
        }),
      );
    } catch (err) {
      setError(err);
    } finally {
      setSaving(false);
    }
  };
  return (
    <form className="inline-form" onSubmit={(e) => void save(e)} aria-label={`Verdict on valuation ${shortId(id)}`}>
      <select aria-label="Verdict" value={verdict} onChange={(e) => setVerdict(e.target.value as Verdict)}>
        <option value="agree">agree</option>
        <option value="adjust">adjust</option>
        <option value="disagree">disagree</option>
      </select>{' '}
      {verdict === 'adjust' && (
        <>
          <input aria-label="Your value" placeholder="your value" inputMode="numeric" value={amount} onChange={(e) => setAmount(e.target.value)} />{' '}
        </>
      )}
      <input aria-label="Notes" placeholder="notes" maxLength={2000} value={notes} onChange={(e) => setNotes(e.target.value)} />{' '}
      <button type="submit" disabled={saving}>
        {saving ? 'Saving…' : 'Save verdict'}
      </button>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
    </form>
  );
}

const PHASE: Record<string, string> = {
  judging: 'Judging the challenger in shadow',
  checking: 'Checking the alerts and new sales',
  training: 'Training a challenger',
  recording: 'Recording the result',
};
const OUTCOME: Record<RetrainingRun['action'], string> = {
  none: 'nothing to do',
  trained: 'challenger trained, now in shadow',
  waiting: 'challenger waiting for sales',
  promoted: 'challenger promoted',
  ready: 'challenger ready to promote',
  rejected: 'challenger rejected',
  cooldown: 'skipped: cooldown',
};

/**
 * Retraining: "Retrain now" starts one step of the retraining policy as a background job (the same job the
 * periodic check starts), its progress survives leaving the page; below, the history of every step.
 */
export function RetrainingCard({ onDone }: { onDone?: () => void }) {
  const [runs, setRuns] = useState<RetrainingRun[] | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    try {
      setRuns(await api.call('monitoring.retrainingRuns', { limit: 50 }));
    } catch (e) {
      setError(e);
    }
  }, []);
  const job = useJob('monitoring.retrain', {
    onDone: () => {
      void load();
      onDone?.();
    },
  });
  useEffect(() => void load(), [load]);
  const running = job.state === 'running';
  const p = job.progress;
  const t = p?.training;
  const fraction = t?.round !== undefined && t.nRounds ? t.round / t.nRounds : null;
  const label = p
    ? `${PHASE[p.phase] ?? p.phase}${t ? ` (${t.phase}${t.round !== undefined && t.nRounds ? `, round ${t.round} of ${t.nRounds}` : ''})` : ''}`
    : 'Starting…';
  return (
    <div className="card" data-testid="retraining">
      <div className="row-between">
        <h2>Retraining</h2>
        <div>
          {running && (
            <button className="secondary" onClick={() => void job.cancel()}>
              Cancel
            </button>
          )}{' '}
          <button onClick={() => void job.start({})} disabled={running} data-testid="retrain-now">
            {running ? 'Retraining…' : 'Retrain now'}
          </button>
        </div>
      </div>
      <p className="muted small">
        One step of the retraining policy in the region's YAML: a challenger already scored in shadow is judged by the paired test on sold valuations;
        otherwise, when alerts of the trigger rules fired and enough new sales are linked, a challenger is trained and scored in shadow. Nothing is promoted in
        the step that trains it. The periodic check starts the same step by itself when its alerts call for one.
      </p>
      {running && <ProgressBar value={fraction} label={label} />}
      {job.state === 'cancelled' && <CancelledNotice what="The retraining" onDismiss={job.reset} />}
      {job.state === 'done' && job.result && (
        <p className="notice" role="status" data-testid="retrain-result">
          {OUTCOME[job.result.action]}: {job.result.reason}
        </p>
      )}
      {job.state === 'done' && job.result?.action === 'cooldown' && job.result.cooldownUntil && (
        // Overriding the cooldown is a person's decision against the policy: asked once more, then audited.
        <div className="notice" data-testid="cooldown-override">
          {confirming ? (
            <>
              <p>
                Train a new challenger now, before the cooldown ends on {fmtDate(job.result.cooldownUntil)}? The override is recorded in the audit trail with
                your name.
              </p>
              <button
                onClick={() => {
                  setConfirming(false);
                  void job.start({ force: true });
                }}
              >
                Yes, retrain now
              </button>{' '}
              <button className="secondary" onClick={() => setConfirming(false)}>
                Keep waiting
              </button>
            </>
          ) : (
            <button className="secondary" onClick={() => setConfirming(true)}>
              Retrain anyway…
            </button>
          )}
        </div>
      )}
      <ErrorBanner error={job.error} onDismiss={job.reset} />
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {runs !== null && runs.length === 0 && <p className="muted">No retraining step has run yet.</p>}
      {runs !== null && runs.length > 0 && (
        <table data-testid="retraining-history">
          <thead>
            <tr>
              <th>When</th>
              <th>Started by</th>
              <th>Challenger</th>
              <th>Outcome</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.id} data-action={r.action}>
                <td>{fmtDate(r.at)}</td>
                <td>{r.trigger === 'schedule' ? 'periodic check' : r.trigger === 'manual' ? 'by hand' : '—'}</td>
                <td>{r.challengerId ? <code>{shortId(r.challengerId)}</code> : '—'}</td>
                <td>
                  <strong>{OUTCOME[r.action]}</strong> — {r.reason}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
