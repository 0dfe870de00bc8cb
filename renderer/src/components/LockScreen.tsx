import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api } from '../api-client.js';
import { ApiCallError } from '../api-error.js';
import type { SessionStatus } from '../../../core/contract/session-schemas.js';

/** How often the window asks whether the session locked itself; the polls do not count as use (core/api/session-lock.ts). */
const POLL_MS = 10_000;

/**
 * The app lock after idle: a Lock button in the top bar (when the host has an idle lock) and, while the session is
 * locked, a screen over everything that asks for the passphrase. The lock itself is enforced by core — every call
 * answers LOCKED until `session.unlock` succeeds — this only shows it and hides what was on screen.
 */
export function LockScreen() {
  const [status, setStatus] = useState<SessionStatus | null>(null);
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const poll = useCallback(async () => {
    try {
      setStatus(await api.call('session.status', {}));
    } catch {
      // An older host without the method, or a restart: keep what we knew.
    }
  }, []);

  useEffect(() => {
    void poll();
    const timer = setInterval(() => void poll(), POLL_MS);
    const onFocus = () => void poll();
    window.addEventListener('focus', onFocus);
    return () => {
      clearInterval(timer);
      window.removeEventListener('focus', onFocus);
    };
  }, [poll]);

  const lockNow = async () => {
    try {
      setStatus(await api.call('session.lock', {}));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const unlock = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setStatus(await api.call('session.unlock', { passphrase }));
      setPassphrase('');
    } catch (err) {
      setError(
        err instanceof ApiCallError && err.code === 'LOCKED'
          ? 'That passphrase does not unlock Appraise. Check it and try again.'
          : String((err as Error).message),
      );
    } finally {
      setBusy(false);
    }
  };

  if (!status || status.idleTimeoutMs === null) return null;
  if (!status.locked) {
    return (
      <button className="secondary" onClick={() => void lockNow()} title="Lock Appraise until the passphrase is entered again">
        Lock
      </button>
    );
  }
  return (
    <div className="lock-screen" role="dialog" aria-modal="true" aria-labelledby="lock-title" data-testid="lock-screen">
      <form className="lock-card" onSubmit={(e) => void unlock(e)}>
        <h2 id="lock-title">Appraise is locked</h2>
        <p>
          It locked itself after {Math.round(status.idleTimeoutMs / 60_000)} minutes without use
          {status.lockedAt ? ` (at ${new Date(status.lockedAt).toLocaleTimeString()})` : ''}. Enter the passphrase (the workspace's, or the lock passphrase this
          Appraise was started with) to continue; jobs that were running go on meanwhile.
        </p>
        <label>
          Passphrase
          <input type="password" autoFocus autoComplete="current-password" value={passphrase} onChange={(e) => setPassphrase(e.target.value)} />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || passphrase.length === 0}>
          Unlock
        </button>
      </form>
    </div>
  );
}
