import { randomBytes } from 'node:crypto';
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
}
const toEntry = (r: Row): OutboxEntry => ({
  id: r.id,
  kind: r.kind,
  payload: JSON.parse(r.payload_json) as unknown,
  createdAt: r.created_at,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
});

/** The outbox in the workspace's `sync_outbox` table (migration 4). Each call is one statement, so atomic. */
export class SqliteOutbox implements Outbox {
  constructor(private readonly db: Database.Database) {}

  enqueue(kind: OutboxEntry['kind'], payload: unknown, now = new Date()): string {
    // 128 random bits, URL-safe: unique per device without coordination, and a valid registry idempotency key.
    const id = `rep_${randomBytes(16).toString('base64url')}`;
    const at = now.toISOString();
    this.db
      .prepare('INSERT INTO sync_outbox (id, kind, payload_json, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, kind, JSON.stringify(payload), at, at);
    return id;
  }

  due(now: Date, limit = 100): OutboxEntry[] {
    return (this.db.prepare('SELECT * FROM sync_outbox WHERE next_attempt_at <= ? ORDER BY rowid LIMIT ?').all(now.toISOString(), limit) as Row[]).map(toEntry);
  }

  acknowledge(id: string): void {
    this.db.prepare('DELETE FROM sync_outbox WHERE id = ?').run(id);
  }

  retryLater(id: string, error: string, at: Date): void {
    this.db
      .prepare('UPDATE sync_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?')
      .run(error.slice(0, 500), at.toISOString(), id);
  }

  size(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM sync_outbox').get() as { n: number }).n;
  }

  list(): OutboxEntry[] {
    return (this.db.prepare('SELECT * FROM sync_outbox ORDER BY rowid').all() as Row[]).map(toEntry);
  }
}
