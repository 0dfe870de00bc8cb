import { createHash } from 'node:crypto';
import type { AppraiseError } from '../../core/common/errors.js';
import type { Workspace } from '../../core/workspace/workspace.js';

/**
 * Rows per table and a hash of every row of a workspace database, computed by plain SQL (not by the code under
 * test): what encrypting, rekeying, backing up and restoring must all leave exactly as it was.
 */
export function workspaceFingerprint(ws: Workspace): { counts: Record<string, number>; checksum: string } {
  const tables = ws.db.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
  const hash = createHash('sha256');
  const counts: Record<string, number> = {};
  for (const t of tables) {
    const rows = ws.db.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).raw().all();
    counts[t] = rows.length;
    hash.update(t).update(JSON.stringify(rows, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : typeof v === 'bigint' ? String(v) : v)));
  }
  return { counts, checksum: hash.digest('hex') };
}

/** The error `fn` throws; fails the test if it returns. */
export function errorOf(fn: () => unknown): AppraiseError {
  try {
    fn();
  } catch (e) {
    return e as AppraiseError;
  }
  throw new Error('expected an error');
}
