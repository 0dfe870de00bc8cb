import type Database from 'better-sqlite3';
import { entryHash, GENESIS_HASH } from './audit-chain.js';
import { auditEntrySchema, type AuditEntry, type AuditHead, type AuditPage, type AuditRecord } from './audit-schemas.js';
import type { AuditTrail } from './audit-trail.js';

interface Row {
  seq: number;
  at: string;
  actor: string;
  action: string;
  ids_json: string;
  outcome: string;
  detail: string | null;
  prev_hash: string;
  hash: string;
}

/**
 * Rows are read back as they are stored, without trusting them: an edited row may hold anything, and verification
 * must still be able to name it rather than fail to parse it.
 */
function toEntry(r: Row): AuditEntry {
  let ids: unknown;
  try {
    ids = JSON.parse(r.ids_json);
  } catch {
    ids = { unreadable: r.ids_json.slice(0, 200) };
  }
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    action: r.action,
    ids: ids as AuditEntry['ids'],
    outcome: r.outcome as AuditEntry['outcome'],
    detail: r.detail,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/**
 * The audit trail in the workspace's `audit_log` and `audit_head` tables. Triggers refuse UPDATE and DELETE on
 * the log and any head move other than one step forward, so ordinary code (and a careless SQL session) cannot
 * rewrite history; someone who drops the triggers is caught by the hash chain (`verifyChain`).
 */
export class SqliteAuditTrail implements AuditTrail {
  constructor(
    private readonly db: Database.Database,
    readonly actor: string,
  ) {}

  record(record: AuditRecord): AuditEntry {
    // IMMEDIATE takes the write lock before the newest entry is read, so two processes appending at once still
    // get consecutive seqs chained one to the other (inside an open transaction this is a savepoint).
    return this.db
      .transaction(() => {
        const last = this.db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1').get() as AuditHead | undefined;
        const body = {
          seq: (last?.seq ?? 0) + 1,
          at: new Date().toISOString(),
          actor: this.actor.slice(0, 200),
          action: record.action,
          ids: Object.fromEntries(Object.entries(record.ids).filter(([, v]) => v !== undefined)) as AuditEntry['ids'],
          outcome: record.outcome,
          detail: record.detail ? record.detail.slice(0, 500) : null,
          prevHash: last?.hash ?? GENESIS_HASH,
        };
        const entry = auditEntrySchema.parse({ ...body, hash: entryHash(body) });
        this.db
          .prepare('INSERT INTO audit_log (seq, at, actor, action, ids_json, outcome, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(entry.seq, entry.at, entry.actor, entry.action, JSON.stringify(entry.ids), entry.outcome, entry.detail, entry.prevHash, entry.hash);
        this.db
          .prepare('INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash')
          .run(entry.seq, entry.hash);
        return entry;
      })
      .immediate();
  }

  atomically<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  list(limit = 100, offset = 0): AuditPage {
    const rows = this.db.prepare('SELECT * FROM audit_log ORDER BY seq DESC LIMIT ? OFFSET ?').all(limit, offset) as Row[];
    const total = (this.db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n;
    return { entries: rows.map(toEntry), total };
  }

  all(): AuditEntry[] {
    return (this.db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as Row[]).map(toEntry);
  }

  head(): AuditHead | null {
    return (this.db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1').get() as AuditHead | undefined) ?? null;
  }
}
