import { api } from '../../api-client.js';
import type { ReportSettings, ReportTexts } from './report-settings.js';

/** Where earlier versions kept the report settings, per window; moved into the workspace once (issue 11). */
const LEGACY_KEY = 'appraise.reportSettings';
const storage = (globalThis as { localStorage?: { getItem(k: string): string | null; removeItem(k: string): void } }).localStorage;

/**
 * The workspace's report settings. The first time a workspace that never had any is opened in a window that kept
 * them in its local storage, they are written to the workspace and the local copy is removed; if this session
 * may not change settings (an appraiser), the local copy stays for an analyst's session to move.
 */
export async function loadReportSettings(): Promise<ReportSettings> {
  const stored = await api.call('reports.settings', {});
  const raw = stored.updatedAt === null ? storage?.getItem(LEGACY_KEY) : null;
  if (!raw) return stored;
  try {
    const v = JSON.parse(raw) as Partial<ReportTexts>;
    const text = (s: unknown, d: string) => (typeof s === 'string' && s.trim() ? s : d);
    const moved = await api.call('settings.setReport', {
      assumptions: text(v.assumptions, stored.assumptions),
      certification: text(v.certification, stored.certification),
      roundTo: typeof v.roundTo === 'number' && v.roundTo > 0 ? v.roundTo : null,
      appraiserName: stored.appraiserName,
      appraiserLicence: stored.appraiserLicence,
    });
    storage?.removeItem(LEGACY_KEY);
    return moved;
  } catch {
    return stored;
  }
}
