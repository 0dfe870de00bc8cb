import { invalidInput } from '../common/errors.js';
import { LOG_LEVELS, isLogLevel, type LogLevel } from './log-record.js';

/**
 * Validation of log filters typed by people (`appraise logs --level/--since`, and the same filters over the API):
 * an INVALID_INPUT error that says what is accepted, or a value the reader can trust.
 */

export function parseLevel(text: string, what = '--level'): LogLevel {
  const t = text.trim().toLowerCase();
  if (isLogLevel(t)) return t;
  throw invalidInput(`${what} must be one of ${LOG_LEVELS.join(', ')}; got "${text}"`);
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(?:\d+(?:ms|s|m|h|d|w))+$/;
const DURATION_PART = /(\d+)(ms|s|m|h|d|w)/g;
// Date, optionally a time (with seconds and fractions optional), optionally a zone. `Date.parse` alone would also
// accept things like "May 1" or "1", which are too loose for a filter people rely on.
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * A point in time from `2026-05-01` (local midnight), `2026-05-01T14:30` (local), `2026-05-01T14:30:00Z`
 * (or any ISO 8601 zone), or a duration back from `now`: `90s`, `10m`, `2h`, `7d`, `1w`, `1h30m`.
 */
export function parseSince(text: string, now: Date = new Date(), what = '--since'): Date {
  const t = text.trim();
  if (DURATION.test(t)) {
    let ms = 0;
    for (const m of t.matchAll(DURATION_PART)) ms += Number(m[1]) * UNIT_MS[m[2]];
    return new Date(now.getTime() - ms);
  }
  if (ISO.test(t)) {
    // A date alone means local midnight (Date.parse would read it as UTC), like a time without a zone does.
    const d = new Date(Date.parse(t.length === 10 ? `${t}T00:00` : t.replace(' ', 'T')));
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw invalidInput(
    `${what} must be an ISO date or time (2026-05-01, 2026-05-01T14:30, 2026-05-01T14:30:00Z) or a duration back from now (90s, 10m, 2h, 7d, 1h30m); got "${text}"`,
  );
}
