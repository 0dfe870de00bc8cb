/**
 * Display formats. Numbers are written the en-US way throughout; only the currency changes, and it comes from
 * the active dataset's schema (`FormSchema.target.currency`), never from here.
 */
const LOCALE = 'en-US';
const num = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 2 });

const missing = (v: number | null | undefined): v is null | undefined => v === null || v === undefined || !Number.isFinite(v);

/** Prices in one currency. Whole units only: valuations are estimates, not invoices. */
export interface MoneyFormatter {
  /** The ISO 4217 code the amounts are shown in. */
  readonly currency: string;
  /** `$540,000`; '—' for a missing or non-finite value. */
  format(v: number | null | undefined): string;
  /** `+$12,000` or `−$3,500` (a true minus sign), for contributions to an estimate. */
  signed(v: number): string;
}

// Intl formatters are costly to build and pure: one per currency and display is enough for the window's life.
const formatters = new Map<string, MoneyFormatter>();

/**
 * The money formatter for an ISO 4217 code (default USD). `display: 'code'` writes `EUR 1,000` instead of
 * `€1,000`, for output that cannot show every symbol (the PDF's standard fonts). Intl shows a well-formed code
 * it has no symbol for as the code; a malformed one, which the config schema refuses, follows the amount.
 */
export function moneyFormatter(currency = 'USD', display: 'symbol' | 'code' = 'symbol'): MoneyFormatter {
  const code = currency.trim().toUpperCase() || 'USD';
  const key = `${code}/${display}`;
  let f = formatters.get(key);
  if (!f) {
    let fmt: (v: number) => string;
    try {
      const intl = new Intl.NumberFormat(LOCALE, { style: 'currency', currency: code, currencyDisplay: display, maximumFractionDigits: 0 });
      fmt = (v) => intl.format(v);
    } catch {
      const plain = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
      fmt = (v) => `${plain.format(v)} ${code}`;
    }
    f = {
      currency: code,
      format: (v) => (missing(v) ? '—' : fmt(v)),
      signed: (v) => (missing(v) ? '—' : `${v >= 0 ? '+' : '−'}${fmt(Math.abs(v))}`),
    };
    formatters.set(key, f);
  }
  return f;
}

export const fmtNum = (v: number | null | undefined): string => (missing(v) ? '—' : num.format(v));
export const fmtPct = (v: number | null | undefined, digits = 1): string => (missing(v) ? '—' : `${(v * 100).toFixed(digits)} %`);
export const shortId = (id: string | null | undefined): string => (id ? id.slice(0, 12) : '—');
export const fmtDate = (iso: string | null | undefined): string => (iso ? iso.replace('T', ' ').slice(0, 16) : '—');
