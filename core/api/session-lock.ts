import { AppraiseError } from '../common/errors.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import type { SessionStatus } from '../contract/session-schemas.js';

/** The methods a locked session may still call: its state, and the unlock itself. */
export const WHILE_LOCKED = new Set(['session.status', 'session.unlock', 'session.lock']);

/** Failed unlocks in a row after which further attempts wait (a guessing script, not a mistyped passphrase). */
const MAX_FAILURES = 5;
const FAILURE_PAUSE_MS = 30_000;

export interface SessionLockOptions {
  /** Idle time after which the session locks; the next call is refused with LOCKED until unlocked. */
  idleTimeoutMs: number;
  /**
   * True when `secret` unlocks: the workspace passphrase of an encrypted workspace (checked against its key file,
   * never stored), else the lock passphrase the host was started with.
   */
  verify: (secret: string) => boolean;
  /** Records lock, unlock and failed unlocks; none: not recorded. */
  audit?: AuditTrail;
  now?: () => number;
}

/**
 * App lock after idle (issue 14, #6): core session state the dispatcher enforces on every call, whichever transport
 * it came through — the renderer's lock screen only shows it. Activity is a call; polls of the session's own state
 * do not count, so an open lock screen does not keep the session alive. Locking drops nothing: jobs keep running
 * and the workspace stays open (its key in memory); what it stops is use of the API by whoever finds the laptop
 * open.
 */
export class SessionLock {
  private lastActivity: number;
  private lockedAt: number | null = null;
  private failures = 0;
  private pausedUntil = 0;
  private readonly now: () => number;

  constructor(private readonly options: SessionLockOptions) {
    if (!(options.idleTimeoutMs > 0)) throw new AppraiseError('INVALID_INPUT', 'the idle lock timeout must be a positive number of milliseconds');
    this.now = options.now ?? Date.now;
    this.lastActivity = this.now();
  }

  get idleTimeoutMs(): number {
    return this.options.idleTimeoutMs;
  }

  /** Called before every call: locks an idle session, refuses a locked one, and counts the call as activity. */
  admit(method: string): void {
    const now = this.now();
    if (this.lockedAt === null && now - this.lastActivity >= this.options.idleTimeoutMs) {
      this.lockAt(this.lastActivity + this.options.idleTimeoutMs, 'idle');
    }
    if (WHILE_LOCKED.has(method)) return;
    if (this.lockedAt !== null) {
      throw new AppraiseError(
        'LOCKED',
        `Appraise locked itself after ${Math.round(this.options.idleTimeoutMs / 60_000)} minutes without use; enter the passphrase to continue`,
        { details: { locked: true, lockedAt: new Date(this.lockedAt).toISOString() } },
      );
    }
    this.lastActivity = now;
  }

  status(): SessionStatus {
    return {
      locked: this.lockedAt !== null,
      lockedAt: this.lockedAt === null ? null : new Date(this.lockedAt).toISOString(),
      idleTimeoutMs: this.options.idleTimeoutMs,
    };
  }

  /** Locks now (the app's "Lock" button). */
  lock(): SessionStatus {
    if (this.lockedAt === null) this.lockAt(this.now(), 'manual');
    return this.status();
  }

  /** Unlocks with the passphrase; a wrong one is LOCKED and recorded, and after five in a row the next waits 30 s. */
  unlock(secret: string): SessionStatus {
    const now = this.now();
    if (this.lockedAt === null) return this.status();
    if (now < this.pausedUntil) {
      throw new AppraiseError('RATE_LIMITED', `too many wrong passphrases; try again in ${Math.ceil((this.pausedUntil - now) / 1000)} seconds`);
    }
    if (!this.options.verify(secret)) {
      this.failures++;
      if (this.failures >= MAX_FAILURES) this.pausedUntil = now + FAILURE_PAUSE_MS;
      this.record('session.unlock', 'refused', { failures: this.failures }, 'LOCKED: wrong passphrase');
      throw new AppraiseError('LOCKED', 'that passphrase does not unlock Appraise; check it and try again', { details: { locked: true } });
    }
    this.failures = 0;
    this.lockedAt = null;
    this.lastActivity = now;
    this.record('session.unlock', 'ok', {});
    return this.status();
  }

  private lockAt(at: number, reason: 'idle' | 'manual'): void {
    this.lockedAt = at;
    this.record('session.lock', 'ok', { reason });
  }

  private record(action: string, outcome: 'ok' | 'refused', ids: Record<string, string | number>, detail?: string): void {
    try {
      this.options.audit?.record({ action, ids, outcome, ...(detail ? { detail } : {}) });
    } catch {
      // A trail that cannot be written must not unlock or lock anything differently.
    }
  }
}
