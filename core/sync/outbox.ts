/** One report waiting in the outbox. `id` is its idempotency key: the registry stores each id once per device. */
export interface OutboxEntry {
  id: string;
  kind: 'monitoring-report';
  payload: unknown;
  createdAt: string;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
}

/**
 * The persistent queue of reports for the registry, in the workspace database. An entry leaves only through
 * `acknowledge`, which the pusher calls after the registry answered that it stored it; every failure keeps it and
 * records when to try again, so no crash, timeout or lost answer can lose a report.
 */
export interface Outbox {
  /** Adds a report; returns its idempotency key. */
  enqueue(kind: OutboxEntry['kind'], payload: unknown, now?: Date): string;
  /** Entries due at `now`, in the order they were enqueued. */
  due(now: Date, limit?: number): OutboxEntry[];
  acknowledge(id: string): void;
  retryLater(id: string, error: string, at: Date): void;
  /** Everything still waiting, due or not. */
  size(): number;
  list(): OutboxEntry[];
}
