/** Index periods: calendar months or quarters, numbered so that consecutive periods differ by 1. */
export type IndexPeriod = 'month' | 'quarter';

/** The period a day (days since 1970-01-01, UTC) falls in: year·12 + month, or year·4 + quarter. */
export function periodOfDay(day: number, period: IndexPeriod): number {
  const d = new Date(Math.floor(day) * 86_400_000);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  return period === 'month' ? y * 12 + m : y * 4 + Math.floor(m / 3);
}

/** The period of an ISO date (YYYY-MM-DD). */
export function periodOfIso(iso: string, period: IndexPeriod): number {
  return periodOfDay(Date.parse(`${iso.slice(0, 10)}T00:00:00Z`) / 86_400_000, period);
}

/** "2014-05" for a month, "2014-Q2" for a quarter. */
export function periodLabel(p: number, period: IndexPeriod): string {
  if (period === 'month') return `${Math.floor(p / 12)}-${String((p % 12) + 1).padStart(2, '0')}`;
  return `${Math.floor(p / 4)}-Q${(p % 4) + 1}`;
}

/** Inverse of `periodLabel`; NaN for text that is no period of this kind. */
export function periodFromLabel(label: string, period: IndexPeriod): number {
  const m = period === 'month' ? /^(\d{4})-(\d{2})$/.exec(label) : /^(\d{4})-Q([1-4])$/.exec(label);
  if (!m) return NaN;
  return period === 'month' ? Number(m[1]) * 12 + Number(m[2]) - 1 : Number(m[1]) * 4 + Number(m[2]) - 1;
}

/** Months per period, to turn a horizon in periods into months for messages. */
export const MONTHS_PER_PERIOD: Record<IndexPeriod, number> = { month: 1, quarter: 3 };

/** Average days per period, to turn a distance in days into a (fractional) number of periods. */
export const DAYS_PER_PERIOD: Record<IndexPeriod, number> = { month: 365.2425 / 12, quarter: 365.2425 / 4 };

/** The first day (days since 1970) of period p. */
export function periodStartDay(p: number, period: IndexPeriod): number {
  const y = period === 'month' ? Math.floor(p / 12) : Math.floor(p / 4);
  const m = period === 'month' ? p % 12 : (p % 4) * 3;
  return Date.UTC(y, m, 1) / 86_400_000;
}
