import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { HistoryEntry, Valuation } from './valuation-schemas.js';
import type { ValuationHistory } from './valuation-history.js';
import { auditedSync, type AuditTrail } from '../audit/audit-trail.js';

/**
 * Saved valuations in the workspace database (`valuations` table): each save is one transaction, so nothing is
 * lost or half-written on a crash, and the history moves with the workspace.
 */
export class SqliteValuationHistory implements ValuationHistory {
  constructor(
    private readonly db: Database.Database,
    /** Where saves and deletions are recorded, in the same transaction (core/audit); none: not recorded. */
    private readonly audit?: AuditTrail,
  ) {}

  list(limit = 1000): HistoryEntry[] {
    const rows = this.db.prepare('SELECT id, created_at, label, result_json FROM valuations ORDER BY created_at DESC, rowid DESC LIMIT ?').all(limit) as {
      id: string;
      created_at: string;
      label: string | null;
      result_json: string;
    }[];
    return rows.map((r) => ({ id: r.id, savedAt: r.created_at, label: r.label ?? '', valuation: JSON.parse(r.result_json) as Valuation }));
  }

  save(label: string, valuation: Valuation): HistoryEntry {
    return auditedSync(
      this.audit,
      'valuation.save',
      { model: valuation.modelId },
      () => this.insert(label, valuation),
      (e) => ({ valuation: e.id }),
    );
  }

  private insert(label: string, valuation: Valuation): HistoryEntry {
    const entry = { id: randomUUID(), savedAt: new Date().toISOString(), label, valuation };
    this.db
      .prepare('INSERT INTO valuations (id, model_id, created_at, label, input_json, result_json) VALUES (?, ?, ?, ?, ?, ?)')
      .run(entry.id, valuation.modelId, entry.savedAt, label, JSON.stringify(valuation.input), JSON.stringify(valuation));
    return entry;
  }

  delete(id: string): boolean {
    return auditedSync(this.audit, 'valuation.delete', { valuation: id }, () => this.db.prepare('DELETE FROM valuations WHERE id = ?').run(id).changes > 0);
  }
}
