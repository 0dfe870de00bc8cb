import { userInfo } from 'node:os';
import { AppraiseError } from '../common/errors.js';
import type { AuditEntry, AuditHead, AuditOutcome, AuditPage, AuditRecord } from './audit-schemas.js';

type AuditIds = AuditRecord['ids'];

/**
 * The workspace's append-only, hash-chained record of consequential actions (docs/security.md). Services record
 * into it; nothing updates or deletes an entry. Each trail writes as one `actor` (the OS user of a CLI run, or the
 * API session's user and role).
 */
export interface AuditTrail {
  readonly actor: string;
  /** Appends one entry (seq = newest + 1, chained to the newest) and returns it; durable when it returns. */
  record(record: AuditRecord): AuditEntry;
  /**
   * Runs `fn` and the entry it records in one transaction, so an action and its audit entry are committed
   * together or not at all.
   */
  atomically<T>(fn: () => T): T;
  /** Newest first, `limit` entries from `offset`. */
  list(limit?: number, offset?: number): AuditPage;
  /** Every entry in seq order (verification and export). */
  all(): AuditEntry[];
  /** The newest entry's seq and hash as recorded beside the chain; null before the first entry. */
  head(): AuditHead | null;
}

/** The actor of a process without an API session: the OS user name. */
export function osActor(): string {
  try {
    return userInfo().username || 'unknown user';
  } catch {
    return 'unknown user';
  }
}

function outcomeOf(e: unknown): { outcome: AuditOutcome; detail: string } {
  const code = e instanceof AppraiseError ? e.code : 'INTERNAL';
  const message = e instanceof Error ? e.message : String(e);
  const outcome: AuditOutcome = code === 'CANCELLED' ? 'cancelled' : code === 'FORBIDDEN' ? 'refused' : 'failed';
  // Messages can quote paths and input: a few words are enough to say why, the log has the rest.
  return { outcome, detail: `${code}: ${message.split('\n')[0].slice(0, 200)}` };
}

/** Records a failure without hiding the error that caused it: a trail that cannot be written is not the user's problem here. */
function recordFailure(audit: AuditTrail, action: string, ids: AuditIds, e: unknown): void {
  try {
    audit.record({ action, ids, ...outcomeOf(e) });
  } catch {
    // The original error is what the caller must see.
  }
}

/**
 * Runs a synchronous action and records it: on success in the same transaction as the action's own writes (both
 * or neither survive a crash), on failure afterwards with the error code. Without a trail it only runs `fn`.
 */
export function auditedSync<T>(audit: AuditTrail | undefined, action: string, ids: AuditIds, fn: () => T, idsOf?: (result: T) => AuditIds): T {
  if (!audit) return fn();
  try {
    return audit.atomically(() => {
      const result = fn();
      audit.record({ action, ids: { ...ids, ...idsOf?.(result) }, outcome: 'ok' });
      return result;
    });
  } catch (e) {
    recordFailure(audit, action, ids, e);
    throw e;
  }
}

/**
 * Runs a synchronous action that does long work before its one write (a model import parses and re-exports the
 * model): recorded after it returns, so the write lock is not held through the work. A crash between the action's
 * commit and the entry can leave it unrecorded, as for `auditedAsync`.
 */
export function auditedAfter<T>(audit: AuditTrail | undefined, action: string, ids: AuditIds, fn: () => T, idsOf?: (result: T) => AuditIds): T {
  if (!audit) return fn();
  let result: T;
  try {
    result = fn();
  } catch (e) {
    recordFailure(audit, action, ids, e);
    throw e;
  }
  audit.record({ action, ids: { ...ids, ...idsOf?.(result) }, outcome: 'ok' });
  return result;
}

/**
 * Runs a long asynchronous action (ingest, training) and records its outcome when it settles. The action commits
 * its own transactions, so a crash between its last commit and this entry can leave it unrecorded (documented in
 * docs/security.md); it can never leave an entry for an action that did not happen.
 */
export async function auditedAsync<T>(
  audit: AuditTrail | undefined,
  action: string,
  ids: AuditIds,
  fn: () => Promise<T>,
  idsOf?: (result: T) => AuditIds,
): Promise<T> {
  if (!audit) return fn();
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    recordFailure(audit, action, ids, e);
    throw e;
  }
  audit.record({ action, ids: { ...ids, ...idsOf?.(result) }, outcome: 'ok' });
  return result;
}
