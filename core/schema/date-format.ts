/**
 * Compiles a date format such as `M/D/YYYY`, `YYYY-MM-DD`, `DD.MM.YYYY` or `YYYYMMDD'T'000000` into a parser that
 * returns the ISO date `YYYY-MM-DD`, or null when the text is not a real calendar date in that format.
 * Tokens: YYYY (4-digit year), MM / DD (2 digits), M / D (1–2 digits); text in single quotes, and any other
 * character, is matched literally.
 */
export function compileDateFormat(format: string): (text: string) => string | null {
  const order: ('Y' | 'M' | 'D')[] = [];
  let re = '^';
  for (let i = 0; i < format.length;) {
    const rest = format.slice(i);
    if (rest.startsWith('YYYY')) {
      re += '(\\d{4})';
      order.push('Y');
      i += 4;
    } else if (rest.startsWith('MM') || rest.startsWith('DD')) {
      re += '(\\d{2})';
      order.push(rest[0] as 'M' | 'D');
      i += 2;
    } else if (rest[0] === 'M' || rest[0] === 'D') {
      re += '(\\d{1,2})';
      order.push(rest[0]);
      i += 1;
    } else if (rest[0] === "'") {
      const close = format.indexOf("'", i + 1);
      const literal = close === -1 ? format.slice(i + 1) : format.slice(i + 1, close);
      re += escapeRegExp(literal);
      i = close === -1 ? format.length : close + 1;
    } else {
      re += escapeRegExp(rest[0]);
      i += 1;
    }
  }
  re += '$';
  if (!order.includes('Y') || !order.includes('M') || !order.includes('D')) {
    throw new Error(`date format "${format}" must contain a year (YYYY), a month (M or MM) and a day (D or DD)`);
  }
  const pattern = new RegExp(re);
  const yi = order.indexOf('Y') + 1;
  const mi = order.indexOf('M') + 1;
  const di = order.indexOf('D') + 1;
  return (text) => {
    const m = pattern.exec(text);
    if (!m) return null;
    const y = +m[yi];
    const mo = +m[mi];
    const d = +m[di];
    if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return null;
    return `${m[yi]}-${mo < 10 ? '0' : ''}${mo}-${d < 10 ? '0' : ''}${d}`;
  };
}

function daysInMonth(y: number, m: number): number {
  return m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Days from `originIso` to `iso` (both `YYYY-MM-DD`), computed in UTC. */
export function daysBetween(originIso: string, iso: string): number {
  return (isoToUtcMs(iso) - isoToUtcMs(originIso)) / 86_400_000;
}

export function isoToUtcMs(iso: string): number {
  return Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10));
}

/** Fractional year of an ISO date, e.g. 2014-07-02 → ≈ 2014.5. */
export function fractionalYear(iso: string): number {
  const y = +iso.slice(0, 4);
  const start = Date.UTC(y, 0, 1);
  const end = Date.UTC(y + 1, 0, 1);
  return y + (isoToUtcMs(iso) - start) / (end - start);
}

export function todayIso(): string {
  return new Date().toISOString().slice(0, 10);
}
