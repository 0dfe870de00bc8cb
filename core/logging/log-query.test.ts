import { test, expect } from 'vitest';
import { AppraiseError } from '../common/errors.js';
import { parseLevel, parseSince } from './log-query.js';

const now = new Date('2026-05-01T12:00:00.000Z');

function invalid(fn: () => unknown): AppraiseError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppraiseError) return e;
    throw e;
  }
  throw new Error('expected an INVALID_INPUT error');
}

test('levels: the six names, any case; anything else says what is accepted', () => {
  expect(parseLevel('warn')).toBe('warn');
  expect(parseLevel(' ERROR ')).toBe('error');
  const e = invalid(() => parseLevel('loud'));
  expect(e.code).toBe('INVALID_INPUT');
  expect(e.message).toBe('--level must be one of trace, debug, info, warn, error, fatal; got "loud"');
});

test('since: durations back from now, ISO dates and times; loose text is refused', () => {
  expect(parseSince('10m', now).toISOString()).toBe('2026-05-01T11:50:00.000Z');
  expect(parseSince('1h30m', now).toISOString()).toBe('2026-05-01T10:30:00.000Z');
  expect(parseSince('7d', now).toISOString()).toBe('2026-04-24T12:00:00.000Z');
  expect(parseSince('500ms', now).toISOString()).toBe('2026-05-01T11:59:59.500Z');
  expect(parseSince('2026-04-30T08:15:00Z', now).toISOString()).toBe('2026-04-30T08:15:00.000Z');
  expect(parseSince('2026-04-30T08:15:00+02:00', now).toISOString()).toBe('2026-04-30T06:15:00.000Z');
  // Without a zone, local time, like a person means it.
  expect(parseSince('2026-04-30', now).getTime()).toBe(new Date(2026, 3, 30).getTime());
  expect(parseSince('2026-04-30 08:15', now).getTime()).toBe(new Date(2026, 3, 30, 8, 15).getTime());
  for (const bad of ['yesterday-ish', 'May 1', '1', '10 minutes', '2026-13-45', '']) {
    const e = invalid(() => parseSince(bad, now));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toContain('--since must be an ISO date or time');
    expect(e.message).toContain('10m');
    expect(e.message).toContain(`got "${bad}"`);
  }
});
