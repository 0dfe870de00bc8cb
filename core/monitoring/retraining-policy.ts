import type { MonitoringConfig } from '../config/monitoring-config.schema.js';

/** The cooldown when the YAML sets none: a week gives a challenger in shadow time to meet some sales. */
export const DEFAULT_COOLDOWN_DAYS = 7;

/** The retraining keys of monitoring.retraining that the schema leaves undefaulted (to keep older configs' hash), filled in. */
export interface RetrainingPolicy {
  cooldownDays: number;
  /** Retrain on this many new linked sales even without an alert; null: only alerts start a retraining. */
  everyNewSales: number | null;
  /** Training sales of the last N months only (plus the new ones); null: all training sales. */
  windowMonths: number | null;
}

export function retrainingPolicyOf(cfg: MonitoringConfig): RetrainingPolicy {
  const r = cfg.retraining;
  return { cooldownDays: r.cooldownDays ?? DEFAULT_COOLDOWN_DAYS, everyNewSales: r.everyNewSales ?? null, windowMonths: r.windowMonths ?? null };
}

/** When the cooldown after a run that produced a challenger at `trainedAt` ends (ISO time). */
export function cooldownEnd(trainedAt: string, days: number): string {
  return new Date(Date.parse(trainedAt) + days * 86_400_000).toISOString();
}

/**
 * The first sale date (YYYY-MM-DD) inside a data window of `months` ending at `lastSale` (YYYY-MM-DD…): the same day
 * of the month N months before, clamped to that month's last day (31 March − 1 month = 28/29 February).
 */
export function windowStart(lastSale: string, months: number): string {
  const y = Number(lastSale.slice(0, 4));
  const m = Number(lastSale.slice(5, 7)) - 1 - months;
  const d = Number(lastSale.slice(8, 10));
  const first = new Date(Date.UTC(y, m, 1));
  const daysIn = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
  return new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), Math.min(d, daysIn))).toISOString().slice(0, 10);
}
