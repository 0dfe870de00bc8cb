/** Display formats. Currency has no cents: valuations are estimates, not invoices. */
const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 });
const num = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

export const fmtMoney = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : money.format(v));
export const fmtSignedMoney = (v: number): string => `${v >= 0 ? '+' : '−'}${money.format(Math.abs(v))}`;
export const fmtNum = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : num.format(v));
export const fmtPct = (v: number | null | undefined, digits = 1): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : `${(v * 100).toFixed(digits)} %`);
export const shortId = (id: string | null | undefined): string => (id ? id.slice(0, 12) : '—');
export const fmtDate = (iso: string | null | undefined): string => (iso ? iso.replace('T', ' ').slice(0, 16) : '—');
