import { z } from 'zod';
import { AppraiseError } from '../common/errors.js';
import type { MethodName } from './contract.js';

/**
 * Local roles (issue 14, #6). An appraiser values properties, saves and exports valuations and reads everything
 * else; an analyst (the admin of the workspace) may also change it: ingest and delete data, train, promote, roll
 * back, archive, import and export models, settings and sync. Each API session carries one role, checked for every
 * call by the dispatcher (core/api/dispatcher.ts), whichever transport the call came through; the UI only hides
 * what the role cannot do.
 */
export const roleSchema = z.enum(['appraiser', 'analyst']);
export type Role = z.output<typeof roleSchema>;

/**
 * What an appraiser may call. Everything not listed needs the analyst role, so a method added to the contract is
 * refused to appraisers until someone decides otherwise here (deny by default).
 */
export const APPRAISER_METHODS = [
  'app.info',
  'form.validate',
  'datasets.list',
  'datasets.get',
  'datasets.quarantine',
  'datasets.quality',
  'models.list',
  'models.manifest',
  'value',
  'valuation.grid',
  'valuation.typical',
  // Batch valuation writes its valuations to a file the appraiser chose: an export of valuations.
  'score',
  'batch.inspect',
  'jobs.get',
  'jobs.list',
  'jobs.cancel',
  'history.list',
  'history.save',
  'history.delete',
  'logs.recent',
  'monitoring.report',
  // The Monitoring page's reads: stored alerts (the navigation's badge) and the retraining history. Acknowledging
  // and starting a retraining job stay with the analyst; so does the review queue, read and write: an appraiser
  // must not learn which of their valuations were drawn for review (docs/monitoring.md, "Random sample review").
  'monitoring.alerts',
  'monitoring.retrainingRuns',
  'market.index',
  // Reading the sync state shows the appraiser whether their reports left and new models arrived; syncing itself
  // (sync.now) changes the workspace and stays with the analyst.
  'sync.status',
  // The automatic promotion policy is shown on the Sync page; changing it (sync.setPromotionPolicy) stays with the analyst.
  'sync.promotionPolicy',
  // Every report prints the workspace's report settings; changing them (settings.setReport) stays with the analyst.
  'reports.settings',
  // The idle lock is every session's: locking and unlocking give no more than the role already has.
  'session.status',
  'session.lock',
  'session.unlock',
] as const satisfies readonly MethodName[];

const appraiserMethods: ReadonlySet<string> = new Set(APPRAISER_METHODS);

/** The role a method needs. */
export function requiredRole(method: string): Role {
  return appraiserMethods.has(method) ? 'appraiser' : 'analyst';
}

/** Throws FORBIDDEN when a session with `role` may not call `method`; no role: the session is unrestricted (analyst). */
export function assertRoleAllows(role: Role | undefined, method: string): void {
  if (role === undefined || role === 'analyst' || requiredRole(method) === 'appraiser') return;
  throw new AppraiseError(
    'FORBIDDEN',
    `"${method.slice(0, 80)}" needs the analyst role; this session runs as an appraiser, who can value, save and export valuations and read the rest. ` +
      'Ask the person who looks after this workspace to do it, or to start Appraise with the analyst role (appraise serve --role analyst).',
    { details: { method: method.slice(0, 80), role, required: 'analyst' } },
  );
}
