/** One report waiting in the outbox. `id` is its idempotency key: the registry stores each id once per device. */
export interface OutboxEntry {
  id: string;
  kind: 'monitoring-report';
  payload: unknown;
  createdAt: string;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  /** The caller's key it was enqueued with (e.g. `report:<model>:<period>`), or null. */
  key: string | null;
}

/**
 * The persistent queue of reports for the registry, in the workspace database. An entry leaves only through
 * `acknowledge`, which the pusher calls after the registry answered that it stored it; every failure keeps it and
 * records when to try again, so no crash, timeout or lost answer can lose a report.
 */
export interface Outbox {
  /**
   * Adds a report; returns its id (the registry's idempotency key). With `key` (the caller's own idempotency key,
   * e.g. `report:<model>:<period>`) the same key is stored once: enqueueing it again — while it waits, or after the
   * registry acknowledged it — stores nothing and returns the id it already has.
   */
  enqueue(kind: OutboxEntry['kind'], payload: unknown, now?: Date, key?: string): string;
  /** True when `key` was enqueued before (waiting or already delivered). */
  hasKey(key: string): boolean;
  /** Entries due at `now`, in the order they were enqueued. */
  due(now: Date, limit?: number): OutboxEntry[];
  acknowledge(id: string): void;
  retryLater(id: string, error: string, at: Date): void;
  /** Everything still waiting, due or not. */
  size(): number;
  list(): OutboxEntry[];
}
