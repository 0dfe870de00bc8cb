import { afterAll, expect, test } from 'vitest';
import { SqliteOutbox } from '../core/sync/sqlite-outbox.js';
import { tempServices } from './helpers/temp-workspace.js';

// The outbox on a real workspace database (all migrations applied): a caller's idempotency key stores a report
// once, whether it is enqueued again while waiting or after the registry acknowledged it.

const ws = tempServices();
afterAll(() => ws.cleanup());

test('the same key is stored once while it waits, and is not queued again after it was delivered', () => {
  const outbox = new SqliteOutbox(ws.workspace.db);
  const key = 'report:abc123:2026-W48';
  const first = outbox.enqueue('monitoring-report', { n: 1 }, new Date('2026-12-01T00:00:00Z'), key);
  // The registry accepts only [A-Za-z0-9_-]{16,100} as idempotency key; the caller's key has colons.
  expect(first).toMatch(/^[A-Za-z0-9_-]{16,100}$/);
  const second = outbox.enqueue('monitoring-report', { n: 2 }, new Date('2026-12-02T00:00:00Z'), key);
  expect(second).toBe(first);
  expect(outbox.size()).toBe(1);
  // The first payload is kept: a second enqueue never overwrites what is waiting.
  expect(outbox.list()).toEqual([expect.objectContaining({ id: first, key, payload: { n: 1 }, createdAt: '2026-12-01T00:00:00.000Z' })]);
  expect(outbox.hasKey(key)).toBe(true);
  expect(outbox.hasKey('report:abc123:2026-W49')).toBe(false);

  outbox.acknowledge(first);
  expect(outbox.size()).toBe(0);
  expect(outbox.due(new Date('2030-01-01'))).toEqual([]);
  // Delivered: the next cycle's enqueue of the same key stores nothing, so nothing is sent twice.
  expect(outbox.enqueue('monitoring-report', { n: 3 }, new Date(), key)).toBe(first);
  expect(outbox.size()).toBe(0);
  expect(outbox.hasKey(key)).toBe(true);
  // The delivered row keeps no payload.
  const row = ws.workspace.db.prepare('SELECT payload_json, acknowledged_at FROM sync_outbox WHERE id = ?').get(first) as {
    payload_json: string;
    acknowledged_at: string | null;
  };
  expect(row.payload_json).toBe('null');
  expect(row.acknowledged_at).not.toBeNull();
});

test('different keys are different reports; entries without a key are each stored and deleted on acknowledgement', () => {
  const outbox = new SqliteOutbox(ws.workspace.db);
  const a = outbox.enqueue('monitoring-report', { week: 1 }, new Date(), 'report:m1:2026-W01');
  const b = outbox.enqueue('monitoring-report', { week: 2 }, new Date(), 'report:m1:2026-W02');
  const c = outbox.enqueue('monitoring-report', { free: 1 });
  const d = outbox.enqueue('monitoring-report', { free: 1 });
  expect(new Set([a, b, c, d]).size).toBe(4);
  expect(outbox.size()).toBe(4);
  outbox.acknowledge(c);
  expect(ws.workspace.db.prepare('SELECT COUNT(*) AS n FROM sync_outbox WHERE id = ?').get(c)).toEqual({ n: 0 });
  for (const id of [a, b, d]) outbox.acknowledge(id);
  expect(outbox.size()).toBe(0);
});

test('a retry time is not set on a delivered entry, and a retried entry keeps its key', () => {
  const outbox = new SqliteOutbox(ws.workspace.db);
  const id = outbox.enqueue('monitoring-report', { x: 1 }, new Date(), 'report:m2:2026-W10');
  outbox.retryLater(id, 'offline', new Date(Date.now() + 60_000));
  expect(outbox.list()).toEqual([expect.objectContaining({ id, attempts: 1, lastError: 'offline', key: 'report:m2:2026-W10' })]);
  expect(outbox.due(new Date())).toEqual([]);
  outbox.acknowledge(id);
  outbox.retryLater(id, 'late answer', new Date());
  expect(outbox.size()).toBe(0);
});
