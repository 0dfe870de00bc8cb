import type Database from 'better-sqlite3';
import { auditedSync, type AuditTrail } from '../audit/audit-trail.js';
import { AppraiseError } from '../common/errors.js';
import { DEFAULT_REPORT_SETTINGS, reportSettingsInputSchema, type ReportSettings, type ReportSettingsInput } from './report-settings-schemas.js';

/** The workspace's report settings (core/valuation/report-settings-schemas.ts). */
export interface ReportSettingsApi {
  /** The stored settings, the defaults while none are stored (`updatedAt` null). */
  report(): ReportSettings;
  /** Replaces them all; recorded in the audit trail as a settings change in the same transaction. */
  setReport(input: ReportSettingsInput): ReportSettings;
}

const KEY = 'report';

/** Stored as one JSON row of `workspace_settings` (migration 12), keyed by what it is. */
export class SqliteReportSettings implements ReportSettingsApi {
  constructor(
    private readonly db: Database.Database,
    /** Where changes are recorded (core/audit); none: not recorded. */
    private readonly audit?: AuditTrail,
  ) {}

  report(): ReportSettings {
    const row = this.db.prepare('SELECT value_json, updated_at, updated_by FROM workspace_settings WHERE key = ?').get(KEY) as
      { value_json: string; updated_at: string; updated_by: string | null } | undefined;
    if (!row) return { ...DEFAULT_REPORT_SETTINGS, updatedAt: null, updatedBy: null, defaults: DEFAULT_REPORT_SETTINGS };
    // A row another version wrote with fields missing or out of range keeps the defaults for those fields.
    const stored = JSON.parse(row.value_json) as Partial<Record<keyof ReportSettingsInput, unknown>>;
    const merged: Record<string, unknown> = { ...DEFAULT_REPORT_SETTINGS };
    for (const k of Object.keys(DEFAULT_REPORT_SETTINGS) as (keyof ReportSettingsInput)[]) {
      const one = reportSettingsInputSchema.shape[k].safeParse(stored[k]);
      if (one.success) merged[k] = one.data;
    }
    return { ...(merged as ReportSettingsInput), updatedAt: row.updated_at, updatedBy: row.updated_by, defaults: DEFAULT_REPORT_SETTINGS };
  }

  setReport(input: ReportSettingsInput): ReportSettings {
    const parsed = reportSettingsInputSchema.safeParse(input);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new AppraiseError('INVALID_INPUT', `report settings: ${first.path.join('.') || 'input'}: ${first.message}`);
    }
    const value = parsed.data;
    const before = this.report();
    // The trail says which fields changed, not their texts (a certification is long; the row has it).
    const changed = (Object.keys(DEFAULT_REPORT_SETTINGS) as (keyof ReportSettingsInput)[]).filter((k) => before[k] !== value[k]);
    return auditedSync(this.audit, 'settings.change', { setting: 'report', fields: changed.join(',') || '(none)' }, () => {
      this.db
        .prepare(
          `INSERT INTO workspace_settings (key, value_json, updated_at, updated_by) VALUES (?, ?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        )
        .run(KEY, JSON.stringify(value), new Date().toISOString(), this.audit?.actor ?? null);
      return this.report();
    });
  }
}
