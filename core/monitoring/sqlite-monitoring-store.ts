import type Database from 'better-sqlite3';
import type { MonitoringAlert, MonitoringSchedule, RetrainingRun, StoredAlert } from './monitoring-schemas.js';
import type { LabelledValuation, MonitoringStore, NewRetrainingRun, ShadowPair } from './monitoring-store.js';
import type { PredictionFilter } from './prediction-log.js';

interface AlertRow {
  id: number;
  model_id: string;
  raised_at: string;
  window_since: string | null;
  window_until: string | null;
  rule: string;
  severity: 'warning' | 'alert';
  subject: string;
  message: string;
  value: number;
  threshold: number;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  acknowledged_note: string | null;
}

interface RunRow {
  id: number;
  at: string;
  champion_id: string;
  action: RetrainingRun['action'];
  challenger_id: string | null;
  reason: string;
  test_json: string | null;
  job_id: string | null;
  trigger: RetrainingRun['trigger'];
  cooldown_until: string | null;
  data_json: string | null;
}

const toAlert = (r: AlertRow): StoredAlert => ({
  id: r.id,
  modelId: r.model_id,
  raisedAt: r.raised_at,
  windowSince: r.window_since,
  windowUntil: r.window_until,
  rule: r.rule,
  severity: r.severity,
  subject: r.subject,
  message: r.message,
  value: r.value,
  threshold: r.threshold,
  acknowledged: r.acknowledged_at ? { at: r.acknowledged_at, by: r.acknowledged_by ?? 'unknown user', note: r.acknowledged_note } : null,
});

const toRun = (r: RunRow): RetrainingRun => ({
  id: r.id,
  at: r.at,
  championId: r.champion_id,
  action: r.action,
  challengerId: r.challenger_id,
  reason: r.reason,
  test: r.test_json ? (JSON.parse(r.test_json) as RetrainingRun['test']) : null,
  jobId: r.job_id,
  trigger: r.trigger,
  cooldownUntil: r.cooldown_until,
  data: r.data_json ? (JSON.parse(r.data_json) as RetrainingRun['data']) : null,
});

/** Monitoring's tables beside the prediction log (migration 6): shadow models and estimates, alerts, retraining runs. */
export class SqliteMonitoringStore implements MonitoringStore {
  constructor(private readonly db: Database.Database) {}

  shadowModels(): string[] {
    return (this.db.prepare('SELECT model_id FROM shadow_models ORDER BY added_at, rowid').all() as { model_id: string }[]).map((r) => r.model_id);
  }

  addShadowModel(modelId: string, reason: string | null): void {
    this.db.prepare('INSERT OR IGNORE INTO shadow_models (model_id, added_at, reason) VALUES (?, ?, ?)').run(modelId, new Date().toISOString(), reason);
  }

  removeShadowModel(modelId: string): void {
    this.db.prepare('DELETE FROM shadow_models WHERE model_id = ?').run(modelId);
  }

  recordShadow(rows: { predictionId: string; modelId: string; estimate: number }[]): void {
    if (!rows.length) return;
    // The prediction may have been pruned between the valuation and this background write: skip it then.
    const insert = this.db.prepare(
      'INSERT OR IGNORE INTO shadow_predictions (prediction_id, model_id, estimate) SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM predictions WHERE id = ?)',
    );
    this.db.transaction(() => {
      for (const r of rows) insert.run(r.predictionId, r.modelId, r.estimate, r.predictionId);
    })();
  }

  private where(f: PredictionFilter): { sql: string; args: string[] } {
    const parts = ['p.model_id = ?'];
    const args = [f.modelId];
    if (f.since) {
      parts.push('p.predicted_at >= ?');
      args.push(f.since);
    }
    if (f.until) {
      parts.push('p.predicted_at < ?');
      args.push(f.until);
    }
    return { sql: parts.join(' AND '), args };
  }

  shadowPairs(filter: PredictionFilter, challengerId: string): ShadowPair[] {
    const w = this.where(filter);
    const rows = this.db
      .prepare(
        `SELECT p.id, p.estimate, s.estimate AS shadow, p.sale_price, p.input_json FROM predictions p
         JOIN shadow_predictions s ON s.prediction_id = p.id AND s.model_id = ?
         WHERE ${w.sql} AND p.sale_price IS NOT NULL ORDER BY p.predicted_at, p.rowid`,
      )
      .all(challengerId, ...w.args) as { id: string; estimate: number; shadow: number; sale_price: number; input_json: string }[];
    return rows.map((r) => ({
      predictionId: r.id,
      championEstimate: r.estimate,
      challengerEstimate: r.shadow,
      salePrice: r.sale_price,
      input: () => JSON.parse(r.input_json) as Record<string, string | number | null>,
    }));
  }

  shadowCount(filter: PredictionFilter, challengerId: string): number {
    const w = this.where(filter);
    return (
      this.db
        .prepare(`SELECT COUNT(*) AS n FROM predictions p JOIN shadow_predictions s ON s.prediction_id = p.id AND s.model_id = ? WHERE ${w.sql}`)
        .get(challengerId, ...w.args) as { n: number }
    ).n;
  }

  labelledValuations(filter: PredictionFilter): LabelledValuation[] {
    const w = this.where(filter);
    const rows = this.db
      .prepare(
        `SELECT p.id, p.predicted_at, p.input_json, p.sale_price, p.sale_date, p.valuation_date FROM predictions p
         WHERE ${w.sql} AND p.sale_price IS NOT NULL ORDER BY p.predicted_at, p.rowid`,
      )
      .all(...w.args) as {
      id: string;
      predicted_at: string;
      input_json: string;
      sale_price: number;
      sale_date: string | null;
      valuation_date: string | null;
    }[];
    return rows.map((r) => ({
      predictionId: r.id,
      predictedAt: r.predicted_at,
      input: JSON.parse(r.input_json) as Record<string, string | number | null>,
      salePrice: r.sale_price,
      saleDate: r.sale_date,
      valuationDate: r.valuation_date,
    }));
  }

  labelledCount(filter: PredictionFilter): number {
    const w = this.where(filter);
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM predictions p WHERE ${w.sql} AND p.sale_price IS NOT NULL`).get(...w.args) as { n: number }).n;
  }

  storeAlerts(modelId: string, window: { since: string | null; until: string | null }, alerts: MonitoringAlert[], at = new Date()): StoredAlert[] {
    const insert = this.db.prepare(
      `INSERT INTO monitoring_alerts (model_id, raised_at, window_since, window_until, rule, severity, subject, message, value, threshold)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const raisedAt = at.toISOString();
    return this.db.transaction(() =>
      alerts.map((a) => {
        const id = Number(
          insert.run(modelId, raisedAt, window.since, window.until, a.rule, a.severity, a.subject, a.message, a.value, a.threshold).lastInsertRowid,
        );
        return { ...a, id, modelId, raisedAt, windowSince: window.since, windowUntil: window.until, acknowledged: null };
      }),
    )();
  }

  listAlerts(options: { modelId?: string; since?: string; limit?: number } = {}): StoredAlert[] {
    const parts: string[] = [];
    const args: (string | number)[] = [];
    if (options.modelId) {
      parts.push('model_id = ?');
      args.push(options.modelId);
    }
    if (options.since) {
      parts.push('raised_at >= ?');
      args.push(options.since);
    }
    const sql = `SELECT * FROM monitoring_alerts ${parts.length ? `WHERE ${parts.join(' AND ')}` : ''} ORDER BY raised_at DESC, id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, options.limit ?? 100) as AlertRow[]).map(toAlert);
  }

  alert(id: number): StoredAlert | null {
    const row = this.db.prepare('SELECT * FROM monitoring_alerts WHERE id = ?').get(id) as AlertRow | undefined;
    return row ? toAlert(row) : null;
  }

  acknowledgeAlert(id: number, by: string, note: string | null, at = new Date()): StoredAlert | null {
    // Only an open alert: a second acknowledgement must not overwrite who saw it first.
    this.db
      .prepare('UPDATE monitoring_alerts SET acknowledged_at = ?, acknowledged_by = ?, acknowledged_note = ? WHERE id = ? AND acknowledged_at IS NULL')
      .run(at.toISOString(), by, note, id);
    return this.alert(id);
  }

  schedule(): MonitoringSchedule {
    const row = this.db.prepare('SELECT interval_hours, last_run_at FROM monitoring_schedule WHERE id = 1').get() as
      { interval_hours: number | null; last_run_at: string | null } | undefined;
    const intervalHours = row ? row.interval_hours : 24;
    const lastRunAt = row?.last_run_at ?? null;
    const nextDueAt =
      intervalHours === null
        ? null
        : lastRunAt === null
          ? new Date(0).toISOString()
          : new Date(Date.parse(lastRunAt) + intervalHours * 3_600_000).toISOString();
    return { intervalHours, lastRunAt, nextDueAt };
  }

  setScheduleInterval(hours: number | null): MonitoringSchedule {
    this.db
      .prepare('INSERT INTO monitoring_schedule (id, interval_hours) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET interval_hours = excluded.interval_hours')
      .run(hours);
    return this.schedule();
  }

  claimScheduledRun(expected: string | null, at: string): boolean {
    return this.db.prepare('UPDATE monitoring_schedule SET last_run_at = ? WHERE id = 1 AND last_run_at IS ?').run(at, expected).changes === 1;
  }

  addRetrainingRun(run: NewRetrainingRun): RetrainingRun {
    const full = { ...run, jobId: run.jobId ?? null, trigger: run.trigger ?? null, cooldownUntil: run.cooldownUntil ?? null, data: run.data ?? null };
    const id = Number(
      this.db
        .prepare(
          'INSERT INTO retraining_runs (at, champion_id, action, challenger_id, reason, test_json, job_id, trigger, cooldown_until, data_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          full.at,
          full.championId,
          full.action,
          full.challengerId,
          full.reason,
          full.test ? JSON.stringify(full.test) : null,
          full.jobId,
          full.trigger,
          full.cooldownUntil,
          full.data ? JSON.stringify(full.data) : null,
        ).lastInsertRowid,
    );
    return { ...full, id };
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  retrainingRuns(limit = 50): RetrainingRun[] {
    return (this.db.prepare('SELECT * FROM retraining_runs ORDER BY id DESC LIMIT ?').all(limit) as RunRow[]).map(toRun);
  }

  lastRetrainingRun(action: RetrainingRun['action']): RetrainingRun | null {
    const r = this.db.prepare('SELECT * FROM retraining_runs WHERE action = ? ORDER BY id DESC LIMIT 1').get(action) as RunRow | undefined;
    return r ? toRun(r) : null;
  }
}
