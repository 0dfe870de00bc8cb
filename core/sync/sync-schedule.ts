import { backoffDelay } from './report-pusher.js';

/** How long a monitoring report covers; one report per champion and period goes to the registry. */
export type ReportPeriodKind = 'day' | 'week' | 'month';

export interface ReportPeriod {
  /** Stable name of the period, part of the report's idempotency key: `2026-11-30`, `2026-W48`, `2026-11`. */
  label: string;
  /** ISO start (inclusive) and end (exclusive), UTC. */
  since: string;
  until: string;
}

const DAY_MS = 86_400_000;
const utcDay = (t: Date) => new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
const pad = (n: number) => String(n).padStart(2, '0');

/** ISO 8601 week of a UTC day: the week belongs to the year of its Thursday. */
function isoWeekLabel(monday: Date): string {
  const thursday = new Date(monday.getTime() + 3 * DAY_MS);
  const jan1 = Date.UTC(thursday.getUTCFullYear(), 0, 1);
  const week = Math.floor((thursday.getTime() - jan1) / DAY_MS / 7) + 1;
  return `${thursday.getUTCFullYear()}-W${pad(week)}`;
}

/**
 * The last period that has fully ended before `now` (UTC). Reports cover finished periods: a report of the running
 * week would be frozen at its first snapshot by its idempotency key, while a finished one is final — and a device
 * that was offline when the period ended still sends it at its next sync.
 */
export function completedPeriod(now: Date, kind: ReportPeriodKind): ReportPeriod {
  const today = utcDay(now);
  let since: Date;
  let until: Date;
  let label: string;
  if (kind === 'day') {
    until = today;
    since = new Date(until.getTime() - DAY_MS);
    label = since.toISOString().slice(0, 10);
  } else if (kind === 'week') {
    // getUTCDay: 0 = Sunday; ISO weeks start on Monday.
    until = new Date(today.getTime() - ((today.getUTCDay() + 6) % 7) * DAY_MS);
    since = new Date(until.getTime() - 7 * DAY_MS);
    label = isoWeekLabel(since);
  } else {
    until = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1));
    since = new Date(Date.UTC(until.getUTCFullYear(), until.getUTCMonth() - 1, 1));
    label = `${since.getUTCFullYear()}-${pad(since.getUTCMonth() + 1)}`;
  }
  return { label, since: since.toISOString(), until: until.toISOString() };
}

/**
 * Time until the next background cycle. After a success: the interval, ±10 % so that laptops started together
 * (an office on Monday morning) drift apart. After `failures` failed cycles in a row: exponential backoff with
 * equal jitter from the interval up to `maxBackoffMs` — never sooner than the interval, so a registry that is down
 * or asking devices to slow down is not hammered; a person can always press "Sync now".
 */
export function nextCycleDelay(failures: number, intervalMs: number, maxBackoffMs: number, random: () => number): number {
  if (failures <= 0) return intervalMs * (0.9 + 0.2 * random());
  return Math.max(intervalMs, backoffDelay(failures, random, intervalMs, Math.max(intervalMs, maxBackoffMs)));
}
