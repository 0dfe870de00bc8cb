import { createHash, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Outbox, OutboxEntry } from './outbox.js';

interface Row {
  id: string;
  kind: OutboxEntry['kind'];
  payload_json: string;
  created_at: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  idempotency_key: string | null;
}
const toEntry = (r: Row): OutboxEntry => ({
  id: r.id,
  kind: r.kind,
  payload: JSON.parse(r.payload_json) as unknown,
  createdAt: r.created_at,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
  key: r.idempotency_key,
});

/**
 * The registry's idempotency key for a caller's key. The registry accepts only `[A-Za-z0-9_-]{16,100}`, and a
 * caller's key (`report:<model>:<period>`) has colons; a hash keeps it deterministic, so the same report enqueued
 * on another day, or by another process on this workspace, still has the one id.
 */
const idForKey = (key: string) => `rep_${createHash('sha256').update(key).digest('base64url').slice(0, 32)}`;

/**
 * The outbox in the workspace's `sync_outbox` table (migrations 4 and 5). Each call is one statement, so atomic.
 * Waiting entries are those not acknowledged; keyed entries stay as tombstones after acknowledgement (migration 5).
 */
export class SqliteOutbox implements Outbox {
  constructor(private readonly db: Database.Database) {}

  enqueue(kind: OutboxEntry['kind'], payload: unknown, now = new Date(), key?: string): string {
    // Without a key: 128 random bits, URL-safe, unique per device without coordination.
    const id = key === undefined ? `rep_${randomBytes(16).toString('base64url')}` : idForKey(key);
    const at = now.toISOString();
    // OR IGNORE: the id (primary key) and the key (unique index) each make a second enqueue a no-op.
    this.db
      .prepare('INSERT OR IGNORE INTO sync_outbox (id, kind, payload_json, created_at, next_attempt_at, idempotency_key) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, kind, JSON.stringify(payload), at, at, key ?? null);
    return id;
  }

  hasKey(key: string): boolean {
    return this.db.prepare('SELECT 1 FROM sync_outbox WHERE idempotency_key = ?').get(key) !== undefined;
  }

  due(now: Date, limit = 100): OutboxEntry[] {
    return (
      this.db
        .prepare('SELECT * FROM sync_outbox WHERE acknowledged_at IS NULL AND next_attempt_at <= ? ORDER BY rowid LIMIT ?')
        .all(now.toISOString(), limit) as Row[]
    ).map(toEntry);
  }

  acknowledge(id: string): void {
    // A keyed entry keeps its row (without the payload) so the same key is not queued and sent again.
    this.db.transaction(() => {
      this.db
        .prepare("UPDATE sync_outbox SET acknowledged_at = ?, payload_json = 'null' WHERE id = ? AND idempotency_key IS NOT NULL")
        .run(new Date().toISOString(), id);
      this.db.prepare('DELETE FROM sync_outbox WHERE id = ? AND idempotency_key IS NULL').run(id);
    })();
  }

  retryLater(id: string, error: string, at: Date): void {
    this.db
      .prepare('UPDATE sync_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ? AND acknowledged_at IS NULL')
      .run(error.slice(0, 500), at.toISOString(), id);
  }

  size(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM sync_outbox WHERE acknowledged_at IS NULL').get() as { n: number }).n;
  }

  list(): OutboxEntry[] {
    return (this.db.prepare('SELECT * FROM sync_outbox WHERE acknowledged_at IS NULL ORDER BY rowid').all() as Row[]).map(toEntry);
  }
}
