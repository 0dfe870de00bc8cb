import { useCallback, useEffect, useState } from 'react';
import type { MethodOutput } from '../../../core/contract/contract.js';
import { useApp } from '../app-context.js';
import { api } from '../api-client.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { fmtDate, shortId } from '../format.js';
import { PromotionPolicyCard } from './sync/PromotionPolicyCard.js';
import { RestartToInstall } from './sync/RestartToInstall.js';
import { EnrolForm } from './sync/EnrolForm.js';

type Status = MethodOutput<'sync.status'>;
type Cycle = NonNullable<Status['lastCycle']>;

/** How often the page re-reads the status, so a background cycle shows up without a click. */
const REFRESH_MS = 5_000;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * The Sync page: whether this workspace is enrolled with the organisation's registry (and how to enrol it), the
 * registry and region, the last cycle — when, whether it worked, models pulled, reports sent, and what went wrong
 * in words — the reports waiting in the outbox, and "Sync now". A model that sync brought in waits as a
 * challenger: the page says so and leads to the Models screen, where a person promotes it.
 */
export function SyncScreen() {
  const { go } = useApp();
  const [status, setStatus] = useState<Status | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [syncing, setSyncing] = useState(false);
  const [done, setDone] = useState<Cycle | null>(null);

  const refresh = useCallback(async () => {
    try {
      setStatus(await api.call('sync.status', {}));
    } catch (e) {
      setError(e);
    }
  }, []);

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [refresh]);

  const syncNow = async () => {
    setSyncing(true);
    setError(null);
    setDone(null);
    try {
      setDone(await api.call('sync.now', {}));
    } catch (e) {
      setError(e);
    } finally {
      setSyncing(false);
      await refresh();
    }
  };

  const busy = syncing || Boolean(status?.running);
  return (
    <section aria-labelledby="sync-title">
      <div className="row-between">
        <h1 id="sync-title">Sync</h1>
        {status?.enrolled && (
          <button onClick={() => void syncNow()} disabled={busy} aria-busy={busy} data-testid="sync-now">
            {busy ? 'Syncing…' : 'Sync now'}
          </button>
        )}
      </div>
      {busy && (
        <div className="progress" role="progressbar" aria-label="Syncing with the registry">
          <div className="bar indeterminate" />
          <span className="progress-label">Checking for new models and sending reports…</span>
        </div>
      )}
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {done && !error && (
        <p className="notice" role="status" data-testid="sync-done">
          Sync done: {plural(done.pulled, 'new model')}, {plural(done.pushed, 'report')} sent
          {done.refused.length > 0 ? `, ${plural(done.refused.length, 'download')} refused (see below)` : ''}.
        </p>
      )}
      {status === null ? (
        <p className="muted">Reading the sync state…</p>
      ) : status.enrolled ? (
        <Enrolled status={status} onModels={() => go('models')} />
      ) : (
        <NotEnrolled status={status} onEnrolled={setStatus} />
      )}
    </section>
  );
}

function NotEnrolled({ status, onEnrolled }: { status: Status; onEnrolled: (s: Status) => void }) {
  return (
    <div className="card" data-testid="not-enrolled">
      <h2>Not linked to a registry</h2>
      <p>
        Appraise works fully offline. Linking this computer to your organisation’s registry lets it receive the models your analysts publish for your region —
        each one checked for its signature before it can be used — and send back monitoring reports.
      </p>
      <p>
        Ask your registry admin for the registry’s address and a one-time enrolment code for your region, then enrol this computer here. It syncs by itself from
        then on, and “Sync now” appears on this page.
      </p>
      <EnrolForm onEnrolled={onEnrolled} />
      <details>
        <summary className="muted small">Or in a terminal</summary>
        <pre className="raw">appraise sync enrol --url &lt;registry URL&gt; --code &lt;code&gt; --name &lt;a name for this computer&gt;</pre>
        {status.howToEnrol && <p className="muted small">{status.howToEnrol}</p>}
      </details>
    </div>
  );
}

function Enrolled({ status: s, onModels }: { status: Status; onModels: () => void }) {
  const last = s.lastCycle;
  return (
    <>
      {s.waitingChallengers.length > 0 && (
        <div className="notice" role="status" data-testid="challenger-waiting" style={{ marginBottom: '0.75rem' }}>
          {s.waitingChallengers.map((m) => (
            <p key={m.id}>
              New model <strong>{m.name}</strong> ({shortId(m.id)}) arrived from the registry on {fmtDate(m.pulledAt)} and waits as a challenger. The current
              champion keeps valuing until a person promotes it.
            </p>
          ))}
          <button className="secondary" onClick={onModels}>
            Compare on the Models screen
          </button>
        </div>
      )}
      {s.appUpdate?.state === 'downloaded' && (
        <div className="notice" role="status" data-testid="app-update" style={{ marginBottom: '0.75rem' }}>
          <p>
            Appraise {s.appUpdate.latestVersion} arrived from your registry and was verified (signed by your organisation, current, intact). It installs when
            you quit Appraise; you are on {s.appUpdate.currentVersion}.
          </p>
          <RestartToInstall />
        </div>
      )}
      {s.appUpdate?.state === 'up-to-date' && (
        <p className="muted small" data-testid="app-update">
          Appraise {s.appUpdate.currentVersion} is the newest release your registry offers.
        </p>
      )}
      <div className="card">
        <h2>Registry</h2>
        <table className="compact">
          <tbody>
            <tr>
              <th>Registry</th>
              <td data-testid="registry-url">{s.registryUrl}</td>
            </tr>
            <tr>
              <th>Region</th>
              <td>
                {s.region} ({s.channel})
              </td>
            </tr>
            <tr>
              <th>This device</th>
              <td>
                <code>{s.deviceId}</code>
              </td>
            </tr>
            <tr>
              <th>Reports waiting</th>
              <td data-testid="outbox-depth">
                {s.outboxDepth === 0 ? 'none' : `${plural(s.outboxDepth, 'report')} in the outbox, sent at the next sync that reaches the registry`}
              </td>
            </tr>
            <tr>
              <th>Next automatic sync</th>
              <td>{s.running ? 'running now' : s.nextCycleAt ? fmtDate(s.nextCycleAt) : 'off'}</td>
            </tr>
            <tr>
              <th>Last success</th>
              <td>{s.lastSuccessAt ? fmtDate(s.lastSuccessAt) : 'not yet'}</td>
            </tr>
          </tbody>
        </table>
      </div>
      <div className="card" data-testid="last-cycle">
        <h2>Last sync</h2>
        {last === null ? (
          <p className="muted">No sync has run yet.</p>
        ) : (
          <>
            <p>
              <span className={last.ok ? 'badge champion' : 'badge alert'}>{last.ok ? 'worked' : 'failed'}</span> {fmtDate(last.at)} (
              {last.trigger === 'manual' ? 'Sync now' : 'automatic'}): {plural(last.pulled, 'model')} pulled, {plural(last.pushed, 'report')} sent
              {last.queued > 0 ? `, ${plural(last.queued, 'report')} queued` : ''}.
            </p>
            {last.error && (
              <p className="error" data-testid="last-error">
                {last.error}
              </p>
            )}
            {last.pulledModels.length > 0 && <p>Arrived: {last.pulledModels.map((m) => `${m.name} (${shortId(m.id)})`).join(', ')} — as challengers.</p>}
            {last.autoPromotion.length > 0 && (
              <ul data-testid="auto-promotion">
                {last.autoPromotion.map((d) => (
                  <li key={d.modelId}>{d.message}</li>
                ))}
              </ul>
            )}
            {last.refused.length > 0 && (
              <>
                <h3>Refused downloads</h3>
                <p className="muted small">Nothing refused was installed; the models you have keep working.</p>
                <ul data-testid="refused">
                  {last.refused.map((r) => (
                    <li key={r.target}>{r.message}</li>
                  ))}
                </ul>
              </>
            )}
          </>
        )}
      </div>
      <PromotionPolicyCard />
      {s.trust && (
        <details className="card">
          <summary>Trust state</summary>
          <p className="muted small">
            The signed metadata this computer trusts: root version {s.trust.rootVersion ?? '—'}, targets {s.trust.targetsVersion ?? '—'}, snapshot{' '}
            {s.trust.snapshotVersion ?? '—'}, timestamp {s.trust.timestampVersion ?? '—'}
            {s.trust.timestampExpires ? `, valid until ${fmtDate(s.trust.timestampExpires)}` : ''}.
          </p>
        </details>
      )}
    </>
  );
}
