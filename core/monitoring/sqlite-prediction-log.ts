import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { AppraiseError, invalidInput, notFound } from '../common/errors.js';
import type { PredictionRecord } from '../valuation/prediction-sink.js';
import {
  DEFAULT_RETENTION,
  type LoggedPrediction,
  type PredictionFilter,
  type PredictionLog,
  type PredictionScanRow,
  type RetentionPolicy,
  type SaleRecord,
} from './prediction-log.js';

interface Row {
  id: string;
  model_id: string;
  source: 'value' | 'score';
  predicted_at: string;
  valuation_date: string | null;
  property_id: string | null;
  input_json: string;
  features: Buffer;
  unseen: string | null;
  estimate: number;
  interval_level: number | null;
  interval_low: number | null;
  interval_high: number | null;
  sale_price: number | null;
  sale_date: string | null;
  job_id: string | null;
}

/** Prune at most once per this many records, so logging a valuation stays a single insert almost always. */
const PRUNE_EVERY = 1000;

/** A view on the blob when it is 4-byte aligned (no copy: the report reads a million of these), else a copy. */
const toFloat32 = (b: Buffer) =>
  b.byteOffset % 4 === 0
    ? new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4)
    : new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
const NONE: number[] = [];
const parseUnseen = (s: string | null) => (s ? s.split(',').map(Number) : NONE);

function checkPrice(price: number): void {
  if (!Number.isFinite(price) || price <= 0)
    throw invalidInput(`a sale price must be a positive number, not ${String(price)}`, [{ field: 'price', message: 'give a positive number' }]);
}
function checkDate(date: string | null | undefined): void {
  if (date != null && (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(date))))
    throw invalidInput(`sale date "${date}" is not an ISO date (YYYY-MM-DD)`, [{ field: 'saleDate', message: 'use YYYY-MM-DD' }]);
}

/** The prediction log in the workspace database (`predictions` table, migration 3); all its SQL is here. */
export class SqlitePredictionLog implements PredictionLog {
  private sinceLastPrune = 0;
  private readonly insert: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly retention: RetentionPolicy = DEFAULT_RETENTION,
  ) {
    this.insert = db.prepare(
      `INSERT INTO predictions (id, model_id, source, predicted_at, valuation_date, property_id, input_json, features, unseen, estimate,
         interval_level, interval_low, interval_high, job_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  record(p: PredictionRecord): string {
    const id = this.insertOne(p);
    this.afterInsert(1);
    return id;
  }

  /** A chunk of batch scores in one transaction: one commit per chunk, not per row. */
  recordMany(ps: PredictionRecord[]): string[] {
    if (ps.length === 0) return [];
    const ids = this.db.transaction(() => ps.map((p) => this.insertOne(p))).immediate();
    this.afterInsert(ps.length);
    return ids;
  }

  private insertOne(p: PredictionRecord): string {
    const id = randomUUID();
    this.insert.run(
      id,
      p.modelId,
      p.source,
      p.predictedAt,
      p.valuationDate,
      p.propertyId,
      JSON.stringify(p.input),
      Buffer.from(p.features.buffer, p.features.byteOffset, p.features.byteLength),
      p.unseen.length ? p.unseen.join(',') : null,
      p.estimate,
      p.interval?.level ?? null,
      p.interval?.low ?? null,
      p.interval?.high ?? null,
      p.jobId ?? null,
    );
    return id;
  }

  private afterInsert(n: number): void {
    this.sinceLastPrune += n;
    if (this.sinceLastPrune >= PRUNE_EVERY) {
      this.sinceLastPrune = 0;
      this.prune(this.retention);
    }
  }

  get(id: string): LoggedPrediction {
    const r = this.db.prepare('SELECT * FROM predictions WHERE id = ?').get(id) as Row | undefined;
    if (!r) throw notFound(`no logged prediction with id "${id}"`);
    return {
      id: r.id,
      modelId: r.model_id,
      source: r.source,
      predictedAt: r.predicted_at,
      valuationDate: r.valuation_date,
      propertyId: r.property_id,
      input: JSON.parse(r.input_json) as LoggedPrediction['input'],
      features: toFloat32(r.features),
      unseen: parseUnseen(r.unseen),
      estimate: r.estimate,
      interval: r.interval_level === null ? null : { level: r.interval_level, low: r.interval_low ?? NaN, high: r.interval_high ?? NaN },
      salePrice: r.sale_price,
      saleDate: r.sale_date,
      jobId: r.job_id,
    };
  }

  recordSale(predictionId: string, price: number, saleDate: string | null = null): LoggedPrediction {
    checkPrice(price);
    checkDate(saleDate);
    const changed = this.db
      .prepare('UPDATE predictions SET sale_price = ?, sale_date = ?, sale_recorded_at = ? WHERE id = ?')
      .run(price, saleDate, new Date().toISOString(), predictionId).changes;
    if (changed === 0) throw notFound(`no logged prediction with id "${predictionId}"; a sale can only be linked to a logged valuation`);
    return this.get(predictionId);
  }

  recordSales(sales: SaleRecord[], options: { modelId?: string } = {}): { matched: number; predictions: number; unmatched: string[] } {
    sales.forEach((s, i) => {
      if (typeof s.propertyId !== 'string' || s.propertyId === '') throw invalidInput(`sale ${i + 1} has no property id`);
      checkPrice(s.price);
      checkDate(s.saleDate);
    });
    const update = this.db.prepare(
      `UPDATE predictions SET sale_price = ?, sale_date = ?, sale_recorded_at = ?
       WHERE property_id = ? AND sale_price IS NULL ${options.modelId ? 'AND model_id = ?' : ''}`,
    );
    const at = new Date().toISOString();
    return this.db
      .transaction(() => {
        let matched = 0;
        let predictions = 0;
        const unmatched: string[] = [];
        for (const s of sales) {
          const args = [s.price, s.saleDate ?? null, at, s.propertyId, ...(options.modelId ? [options.modelId] : [])];
          const n = update.run(...args).changes;
          if (n > 0) matched++;
          else unmatched.push(s.propertyId);
          predictions += n;
        }
        return { matched, predictions, unmatched };
      })
      .immediate();
  }

  private where(f: PredictionFilter): { sql: string; args: string[] } {
    const parts = ['model_id = ?'];
    const args = [f.modelId];
    if (f.since) {
      parts.push('predicted_at >= ?');
      args.push(f.since);
    }
    if (f.until) {
      parts.push('predicted_at < ?');
      args.push(f.until);
    }
    if (f.source) {
      parts.push('source = ?');
      args.push(f.source);
    }
    if (f.jobId) {
      parts.push('job_id = ?');
      args.push(f.jobId);
    }
    return { sql: parts.join(' AND '), args };
  }

  scan(filter: PredictionFilter, fn: (row: PredictionScanRow) => void): number {
    const w = this.where(filter);
    const stmt = this.db.prepare(
      `SELECT id, predicted_at, features, unseen, estimate, interval_low, interval_high, sale_price, input_json
       FROM predictions WHERE ${w.sql} ORDER BY predicted_at, rowid`,
    );
    let n = 0;
    for (const r of stmt.iterate(...w.args) as IterableIterator<Row>) {
      n++;
      fn({
        id: r.id,
        predictedAt: r.predicted_at,
        features: toFloat32(r.features),
        unseen: parseUnseen(r.unseen),
        estimate: r.estimate,
        intervalLow: r.interval_low,
        intervalHigh: r.interval_high,
        salePrice: r.sale_price,
        input: () => JSON.parse(r.input_json) as Record<string, string | number | null>,
      });
    }
    return n;
  }

  count(filter: PredictionFilter): number {
    const w = this.where(filter);
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM predictions WHERE ${w.sql}`).get(...w.args) as { n: number }).n;
  }

  prune(policy: RetentionPolicy = this.retention, now = new Date()): number {
    if (!(policy.days > 0) || !(policy.maxRows > 0)) throw new AppraiseError('INVALID_INPUT', 'retention needs positive days and maxRows');
    const cutoff = new Date(now.getTime() - policy.days * 86_400_000).toISOString();
    return this.db
      .transaction(() => {
        let n = this.db.prepare('DELETE FROM predictions WHERE predicted_at < ?').run(cutoff).changes;
        // The rowid span bounds the row count and costs two index look-ups; COUNT(*) scans the table, so it runs
        // only when the bound says the limit may be passed.
        const span = (this.db.prepare('SELECT COALESCE(MAX(rowid) - MIN(rowid) + 1, 0) AS n FROM predictions').get() as { n: number }).n;
        if (span <= policy.maxRows) return n;
        const total = (this.db.prepare('SELECT COUNT(*) AS n FROM predictions').get() as { n: number }).n;
        if (total > policy.maxRows) {
          n += this.db
            .prepare('DELETE FROM predictions WHERE rowid IN (SELECT rowid FROM predictions ORDER BY predicted_at, rowid LIMIT ?)')
            .run(total - policy.maxRows).changes;
        }
        return n;
      })
      .immediate();
  }
}
