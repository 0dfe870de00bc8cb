import type Database from 'better-sqlite3';

/**
 * Numbered schema migrations. Each runs in its own transaction together with the `user_version` bump, so a
 * crash mid-upgrade leaves the workspace at the previous version, never in between. Append only: never edit a
 * migration that has shipped; add a new one.
 */
export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'datasets, ingest runs and quarantine',
    up(db) {
      db.exec(`
        CREATE TABLE datasets (
          id TEXT PRIMARY KEY,             -- sha256 of config hash + normalized rows
          name TEXT NOT NULL,
          table_name TEXT NOT NULL UNIQUE,
          config_name TEXT NOT NULL,
          config_hash TEXT NOT NULL,
          config_json TEXT NOT NULL,
          columns_json TEXT NOT NULL,
          row_count INTEGER NOT NULL,
          source_path TEXT,
          source_sha256 TEXT,
          parent_id TEXT,                   -- lineage: the dataset this one was derived from, if any
          quality_json TEXT,
          created_at TEXT NOT NULL
        );
        CREATE TABLE ingest_runs (
          id TEXT PRIMARY KEY,
          dataset_id TEXT,
          source_path TEXT NOT NULL,
          config_hash TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'aborted')),
          pid INTEGER NOT NULL,
          staging_table TEXT NOT NULL,
          rows_read INTEGER NOT NULL DEFAULT 0,
          rows_accepted INTEGER NOT NULL DEFAULT 0,
          rows_quarantined INTEGER NOT NULL DEFAULT 0,
          error TEXT,
          started_at TEXT NOT NULL,
          finished_at TEXT
        );
        CREATE INDEX ingest_runs_dataset ON ingest_runs(dataset_id);
        CREATE TABLE quarantine (
          run_id TEXT NOT NULL REFERENCES ingest_runs(id) ON DELETE CASCADE,
          line INTEGER NOT NULL,
          raw TEXT NOT NULL,
          reasons_json TEXT NOT NULL
        );
        CREATE INDEX quarantine_run ON quarantine(run_id, line);
      `);
    },
  },
  {
    version: 2,
    name: 'model registry and valuation history',
    up(db) {
      db.exec(`
        CREATE TABLE models (
          id TEXT PRIMARY KEY,              -- sha256 of the ONNX bytes
          name TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('champion', 'challenger', 'archived')),
          mode TEXT NOT NULL CHECK (mode IN ('full', 'warm-start', 'imported')),
          dataset_id TEXT,
          parent_id TEXT,
          onnx_sha256 TEXT NOT NULL,
          manifest_sha256 TEXT NOT NULL,
          ensemble_sha256 TEXT,             -- the TreeEnsemble JSON (absent for imported models)
          n_trees INTEGER NOT NULL,
          cv_json TEXT,
          created_at TEXT NOT NULL
        );
        -- At most one champion, enforced by the database itself.
        CREATE UNIQUE INDEX models_one_champion ON models(status) WHERE status = 'champion';
        -- Every promotion, so rollback knows the previous champion.
        CREATE TABLE model_promotions (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          model_id TEXT NOT NULL REFERENCES models(id),
          previous_id TEXT,
          at TEXT NOT NULL,
          reason TEXT NOT NULL
        );
        CREATE TABLE valuations (
          id TEXT PRIMARY KEY,
          model_id TEXT NOT NULL,
          created_at TEXT NOT NULL,
          label TEXT,
          input_json TEXT NOT NULL,
          result_json TEXT NOT NULL
        );
        CREATE INDEX valuations_created ON valuations(created_at);
      `);
    },
  },
  {
    version: 3,
    name: 'prediction log for monitoring',
    up(db) {
      db.exec(`
        -- Every valuation (and logged batch row) a model made, for drift, data quality and accuracy monitoring.
        CREATE TABLE predictions (
          id TEXT PRIMARY KEY,
          model_id TEXT NOT NULL,
          source TEXT NOT NULL CHECK (source IN ('value', 'score')),
          predicted_at TEXT NOT NULL,       -- ISO time the estimate was made
          valuation_date TEXT,
          property_id TEXT,                 -- the identifier column's value, to match sales files later
          input_json TEXT NOT NULL,         -- the validated input, by column name
          features BLOB NOT NULL,           -- Float32Array feature vector (NaN = missing)
          unseen TEXT,                      -- comma-separated indexes of features given a category not seen in training
          estimate REAL NOT NULL,
          interval_level REAL,
          interval_low REAL,
          interval_high REAL,
          sale_price REAL,                  -- the actual sale price, once known
          sale_date TEXT,
          sale_recorded_at TEXT
        );
        CREATE INDEX predictions_model_time ON predictions(model_id, predicted_at);
        CREATE INDEX predictions_time ON predictions(predicted_at);
        CREATE INDEX predictions_property ON predictions(property_id) WHERE property_id IS NOT NULL;
      `);
    },
  },
  {
    version: 4,
    name: 'sync outbox',
    up(db) {
      db.exec(`
        -- Reports waiting for the registry. A row is deleted only when the registry has acknowledged it; its id
        -- is the idempotency key, so a retry after a lost acknowledgement is stored once.
        CREATE TABLE sync_outbox (
          id TEXT PRIMARY KEY,
          kind TEXT NOT NULL,
          payload_json TEXT NOT NULL,
          created_at TEXT NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0,
          next_attempt_at TEXT NOT NULL,
          last_error TEXT
        );
        CREATE INDEX sync_outbox_due ON sync_outbox(next_attempt_at);
      `);
    },
  },
  {
    version: 5,
    name: 'sync outbox: caller idempotency keys',
    up(db) {
      db.exec(`
        -- The caller's own key (e.g. report:<model>:<period>): enqueueing the same key again stores nothing. A keyed
        -- row is kept after acknowledgement (payload dropped, acknowledged_at set) so that a report already delivered
        -- is not queued again by the next cycle; unkeyed rows are still deleted on acknowledgement.
        ALTER TABLE sync_outbox ADD COLUMN idempotency_key TEXT;
        ALTER TABLE sync_outbox ADD COLUMN acknowledged_at TEXT;
        CREATE UNIQUE INDEX sync_outbox_key ON sync_outbox(idempotency_key) WHERE idempotency_key IS NOT NULL;
      `);
    },
  },
  {
    version: 6,
    name: 'monitoring: shadow challengers, stored alerts, retraining runs',
    up(db) {
      db.exec(`
        -- Challengers scored in shadow beside the champion on every valuation (never shown to the appraiser).
        CREATE TABLE shadow_models (
          model_id TEXT PRIMARY KEY,
          added_at TEXT NOT NULL,
          reason TEXT
        );
        -- A shadow model's estimate for one logged valuation; goes with the prediction when it is pruned.
        CREATE TABLE shadow_predictions (
          prediction_id TEXT NOT NULL REFERENCES predictions(id) ON DELETE CASCADE,
          model_id TEXT NOT NULL,
          estimate REAL NOT NULL,
          PRIMARY KEY (prediction_id, model_id)
        );
        CREATE INDEX shadow_predictions_model ON shadow_predictions(model_id);
        -- Alerts as raised by each monitoring check, for the alert list and the next report.
        CREATE TABLE monitoring_alerts (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          model_id TEXT NOT NULL,
          raised_at TEXT NOT NULL,
          window_since TEXT,
          window_until TEXT,
          rule TEXT NOT NULL,
          severity TEXT NOT NULL CHECK (severity IN ('warning', 'alert')),
          subject TEXT NOT NULL,
          message TEXT NOT NULL,
          value REAL NOT NULL,
          threshold REAL NOT NULL
        );
        CREATE INDEX monitoring_alerts_model_time ON monitoring_alerts(model_id, raised_at);
        -- Each run of the retraining policy: what triggered it and what it did.
        CREATE TABLE retraining_runs (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          at TEXT NOT NULL,
          champion_id TEXT NOT NULL,
          action TEXT NOT NULL,
          challenger_id TEXT,
          reason TEXT NOT NULL,
          test_json TEXT
        );
      `);
    },
  },
  {
    version: 7,
    name: 'audit trail',
    up(db) {
      db.exec(`
        -- Append-only, hash-chained record of consequential actions (core/audit). seq is assigned by the writer as
        -- the head's seq + 1 inside an IMMEDIATE transaction; hash = SHA-256 over the canonical encoding of the row.
        CREATE TABLE audit_log (
          seq INTEGER PRIMARY KEY,
          at TEXT NOT NULL,
          actor TEXT NOT NULL,
          action TEXT NOT NULL,
          ids_json TEXT NOT NULL,
          outcome TEXT NOT NULL,
          detail TEXT,
          prev_hash TEXT NOT NULL,
          hash TEXT NOT NULL
        );
        -- The newest entry, kept beside the chain so a cut-off end is seen (a removed tail leaves no gap).
        CREATE TABLE audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL);
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
        CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head WHEN NEW.seq <> OLD.seq + 1
          BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
        CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
      `);
    },
  },
  {
    version: 8,
    name: 'champion changes: who, and which promotion a rollback undid',
    up(db) {
      db.exec(`
        -- The user who promoted or rolled back (the OS account of the app's process).
        ALTER TABLE model_promotions ADD COLUMN who TEXT;
        -- A rollback names the promotion it undid, so a second rollback goes further back instead of undoing the first.
        ALTER TABLE model_promotions ADD COLUMN undoes INTEGER REFERENCES model_promotions(seq);
      `);
    },
  },
  {
    version: 9,
    name: 'monitoring alerts: acknowledged by a person',
    up(db) {
      db.exec(`
        -- Who acknowledged an alert (seen, being dealt with), when, and why; null while it is open.
        ALTER TABLE monitoring_alerts ADD COLUMN acknowledged_at TEXT;
        ALTER TABLE monitoring_alerts ADD COLUMN acknowledged_by TEXT;
        ALTER TABLE monitoring_alerts ADD COLUMN acknowledged_note TEXT;
      `);
    },
  },
  {
    version: 10,
    name: 'monitoring schedule: how often the checks run, and when they last did',
    up(db) {
      db.exec(`
        -- One row. interval_hours null: periodic checks are off. last_run_at is claimed before a check runs, so two
        -- processes on one workspace (the app and a CLI) never run the same check twice.
        CREATE TABLE monitoring_schedule (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          interval_hours REAL CHECK (interval_hours IS NULL OR interval_hours > 0),
          last_run_at TEXT
        );
        INSERT INTO monitoring_schedule (id, interval_hours, last_run_at) VALUES (1, 24, NULL);
      `);
    },
  },
  {
    version: 11,
    name: 'monitoring: batch scores in the log, random sample review, retraining jobs',
    up(db) {
      db.exec(`
        -- The batch scoring job that logged a prediction (source 'score'); null for a single valuation.
        ALTER TABLE predictions ADD COLUMN job_id TEXT;
        CREATE INDEX predictions_job ON predictions(job_id) WHERE job_id IS NOT NULL;
        -- Valuations drawn at random for review (the AVM rule's random sample testing), drawn when they were made.
        -- No foreign key to predictions: a review is a compliance record and outlives the log's retention.
        CREATE TABLE review_samples (
          prediction_id TEXT PRIMARY KEY,
          model_id TEXT NOT NULL,
          drawn_at TEXT NOT NULL,
          draw REAL NOT NULL,               -- the seeded uniform draw in [0, 1) that fell below share
          share REAL NOT NULL,              -- monitoring.review.share when it was drawn
          property_id TEXT,
          estimate REAL NOT NULL,
          verdict TEXT CHECK (verdict IS NULL OR verdict IN ('agree', 'adjust', 'disagree')),
          adjusted_value REAL,              -- the reviewer's value for an 'adjust' verdict
          notes TEXT,
          reviewed_by TEXT,
          reviewed_at TEXT
        );
        CREATE INDEX review_samples_model_time ON review_samples(model_id, drawn_at);
        -- The background job a retraining step ran in (core/jobs), when it ran as one.
        ALTER TABLE retraining_runs ADD COLUMN job_id TEXT;
      `);
    },
  },
  {
    version: 12,
    name: 'workspace settings (report texts, rounding, appraiser defaults)',
    up(db) {
      db.exec(`
        -- One JSON value per setting (core/valuation/report-settings.ts); changes are audited as settings.change.
        CREATE TABLE workspace_settings (
          key TEXT PRIMARY KEY,
          value_json TEXT NOT NULL,
          updated_at TEXT NOT NULL,
          updated_by TEXT
        );
      `);
    },
  },
  {
    version: 13,
    name: 'monitoring: what started each retraining run',
    up(db) {
      db.exec(`
        -- 'manual' (the app's Retrain now, appraise monitor retrain) or 'schedule' (the periodic check); null for older runs.
        ALTER TABLE retraining_runs ADD COLUMN trigger TEXT CHECK (trigger IS NULL OR trigger IN ('manual', 'schedule'));
      `);
    },
  },
  {
    version: 14,
    name: 'monitoring: retraining cooldown and data window',
    up(db) {
      db.exec(`
        -- A 'cooldown' run: when the cooldown ends; a 'trained' run: what the challenger learned from (data window,
        -- new sales, cause) as JSON (core/monitoring/monitoring-schemas.ts retrainingDataSchema). Null for older runs.
        ALTER TABLE retraining_runs ADD COLUMN cooldown_until TEXT;
        ALTER TABLE retraining_runs ADD COLUMN data_json TEXT;
      `);
    },
  },
];

export function currentVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Upgrades the database in place to the newest version. Returns the versions applied. */
export function migrate(db: Database.Database, all: Migration[] = migrations): number[] {
  const applied: number[] = [];
  const from = currentVersion(db);
  const latest = all.length === 0 ? 0 : all[all.length - 1].version;
  if (from > latest) {
    throw new Error(`this workspace was written by a newer Appraise (schema ${from}; this build knows ${latest}); update Appraise`);
  }
  for (const m of all) {
    if (m.version <= from) continue;
    // Two processes may open a new workspace at once (two CLI ingests, the app and the CLI): the version is read
    // again under the write lock, so the one that waited skips what the other has just applied.
    const ran = db
      .transaction(() => {
        if (currentVersion(db) >= m.version) return false;
        m.up(db);
        db.pragma(`user_version = ${m.version}`);
        return true;
      })
      .immediate();
    if (ran) applied.push(m.version);
  }
  return applied;
}
