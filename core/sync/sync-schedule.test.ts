import { describe, expect, it } from 'vitest';
import { completedPeriod, nextCycleDelay } from './sync-schedule.js';

// Expected ISO weeks were read from Python's date.isocalendar(), not from this code.
describe('completedPeriod', () => {
  it('is the last ISO week that has ended, Monday to Monday, named by ISO week-year', () => {
    // Wednesday 2 December 2026 → the week of Monday 23 November, ISO week 48.
    expect(completedPeriod(new Date('2026-12-02T15:00:00Z'), 'week')).toEqual({
      label: '2026-W48',
      since: '2026-11-23T00:00:00.000Z',
      until: '2026-11-30T00:00:00.000Z',
    });
    // Across the new year: 2026 has 53 ISO weeks; Monday 4 January 2021 closes 2020-W53.
    expect(completedPeriod(new Date('2027-01-05T00:30:00Z'), 'week').label).toBe('2026-W53');
    expect(completedPeriod(new Date('2021-01-04T00:00:00Z'), 'week')).toMatchObject({ label: '2020-W53', since: '2020-12-28T00:00:00.000Z' });
    expect(completedPeriod(new Date('2021-01-11T09:00:00Z'), 'week').label).toBe('2021-W01');
  });

  it('has day and month periods too', () => {
    expect(completedPeriod(new Date('2024-03-01T05:00:00Z'), 'day')).toEqual({
      label: '2024-02-29',
      since: '2024-02-29T00:00:00.000Z',
      until: '2024-03-01T00:00:00.000Z',
    });
    expect(completedPeriod(new Date('2026-01-15T12:00:00Z'), 'month')).toEqual({
      label: '2025-12',
      since: '2025-12-01T00:00:00.000Z',
      until: '2026-01-01T00:00:00.000Z',
    });
  });
});

describe('nextCycleDelay', () => {
  const minute = 60_000;
  it('waits about the interval after a success, jittered by at most 10 %', () => {
    expect(nextCycleDelay(0, 15 * minute, 240 * minute, () => 0)).toBe(13.5 * minute);
    expect(nextCycleDelay(0, 15 * minute, 240 * minute, () => 0.999_999)).toBeCloseTo(16.5 * minute, -2);
  });

  it('backs off exponentially after failures, never sooner than the interval, capped', () => {
    // 1 failure: 15–30 min; 2: 30–60; 3: 60–120; then half to all of the 4 h cap.
    expect(nextCycleDelay(1, 15 * minute, 240 * minute, () => 0)).toBe(15 * minute);
    expect(nextCycleDelay(1, 15 * minute, 240 * minute, () => 0.999_999)).toBeCloseTo(30 * minute, -2);
    expect(nextCycleDelay(2, 15 * minute, 240 * minute, () => 0)).toBe(30 * minute);
    expect(nextCycleDelay(3, 15 * minute, 240 * minute, () => 0.5)).toBe(90 * minute);
    expect(nextCycleDelay(20, 15 * minute, 240 * minute, () => 0)).toBe(120 * minute);
    expect(nextCycleDelay(20, 15 * minute, 240 * minute, () => 0.999_999)).toBeCloseTo(240 * minute, -2);
    // A cap below the interval does not make failures retry faster than successes.
    expect(nextCycleDelay(5, 15 * minute, minute, () => 0)).toBe(15 * minute);
  });
});
