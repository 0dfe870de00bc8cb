import type Database from 'better-sqlite3';
import type { ReviewSample, ReviewSummary, ReviewVerdict } from './monitoring-schemas.js';
import type { ReviewFilter, ReviewStore } from './review-sampling.js';

interface SampleRow {
  prediction_id: string;
  model_id: string;
  drawn_at: string;
  draw: number;
  share: number;
  property_id: string | null;
  estimate: number;
  verdict: ReviewVerdict | null;
  adjusted_value: number | null;
  notes: string | null;
  reviewed_by: string | null;
  reviewed_at: string | null;
}

const toSample = (r: SampleRow): ReviewSample => ({
  predictionId: r.prediction_id,
  modelId: r.model_id,
  drawnAt: r.drawn_at,
  draw: r.draw,
  share: r.share,
  propertyId: r.property_id,
  estimate: r.estimate,
  review: r.verdict
    ? { verdict: r.verdict, adjustedValue: r.adjusted_value, notes: r.notes, by: r.reviewed_by ?? 'unknown user', at: r.reviewed_at ?? r.drawn_at }
    : null,
});

/** The random sample review queue in the workspace database (`review_samples`, migration 11). */
export class SqliteReviewStore implements ReviewStore {
  constructor(private readonly db: Database.Database) {}

  addSample(s: Omit<ReviewSample, 'review'>): void {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO review_samples (prediction_id, model_id, drawn_at, draw, share, property_id, estimate)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(s.predictionId, s.modelId, s.drawnAt, s.draw, s.share, s.propertyId, s.estimate);
  }

  sample(predictionId: string): ReviewSample | null {
    const r = this.db.prepare('SELECT * FROM review_samples WHERE prediction_id = ?').get(predictionId) as SampleRow | undefined;
    return r ? toSample(r) : null;
  }

  private where(f: ReviewFilter): { sql: string; args: string[] } {
    const parts: string[] = [];
    const args: string[] = [];
    if (f.modelId) {
      parts.push('model_id = ?');
      args.push(f.modelId);
    }
    if (f.since) {
      parts.push('drawn_at >= ?');
      args.push(f.since);
    }
    if (f.until) {
      parts.push('drawn_at < ?');
      args.push(f.until);
    }
    if (f.status === 'open') parts.push('verdict IS NULL');
    if (f.status === 'reviewed') parts.push('verdict IS NOT NULL');
    return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', args };
  }

  samples(filter: ReviewFilter = {}): ReviewSample[] {
    const w = this.where(filter);
    const rows = this.db
      .prepare(`SELECT * FROM review_samples ${w.sql} ORDER BY drawn_at DESC, rowid DESC LIMIT ?`)
      .all(...w.args, filter.limit ?? 100) as SampleRow[];
    return rows.map(toSample);
  }

  recordVerdict(predictionId: string, r: { verdict: ReviewVerdict; adjustedValue: number | null; notes: string | null; by: string; at: string }): boolean {
    // Only an open sample: a verdict is a record, never overwritten.
    return (
      this.db
        .prepare(
          `UPDATE review_samples SET verdict = ?, adjusted_value = ?, notes = ?, reviewed_by = ?, reviewed_at = ?
           WHERE prediction_id = ? AND verdict IS NULL`,
        )
        .run(r.verdict, r.adjustedValue, r.notes, r.by, r.at, predictionId).changes === 1
    );
  }

  summary(filter: ReviewFilter & { modelId: string }): Omit<ReviewSummary, 'share' | 'valuations'> {
    const w = this.where({ ...filter, status: 'all' });
    const r = this.db
      .prepare(
        `SELECT COUNT(*) AS drawn, COUNT(verdict) AS reviewed,
           SUM(verdict = 'agree') AS agree, SUM(verdict = 'adjust') AS adjust, SUM(verdict = 'disagree') AS disagree,
           AVG(CASE WHEN verdict = 'adjust' THEN adjusted_value / estimate - 1 END) AS mean_adjustment
         FROM review_samples ${w.sql}`,
      )
      .get(...w.args) as {
      drawn: number;
      reviewed: number;
      agree: number | null;
      adjust: number | null;
      disagree: number | null;
      mean_adjustment: number | null;
    };
    return {
      drawn: r.drawn,
      reviewed: r.reviewed,
      reviewedShare: r.drawn > 0 ? r.reviewed / r.drawn : null,
      agree: r.agree ?? 0,
      adjust: r.adjust ?? 0,
      disagree: r.disagree ?? 0,
      agreementRate: r.reviewed > 0 ? (r.agree ?? 0) / r.reviewed : null,
      meanAdjustment: r.mean_adjustment,
    };
  }
}
