import Database from 'better-sqlite3';
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppraiseError } from '../core/common/errors.js';
import type { Channel, Role, WebhookEvent } from './registry-schemas.js';
import type {
  AuditEntry,
  ClaimedDelivery,
  Credential,
  EnrolmentCode,
  RegistryStore,
  StoredReport,
  Webhook,
  WebhookDelivery,
  WebhookNotice,
} from './registry-store.js';
import {
  toClaimed,
  toCredential,
  toDelivery,
  toReport,
  toWebhook,
  WEBHOOK_SCHEMA,
  type CredentialRow,
  type DeliveryRow,
  type ReportRow,
  type WebhookRow,
} from './registry-rows.js';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS credentials (
    id TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('admin', 'publisher', 'device')),
    name TEXT NOT NULL,
    region TEXT,
    channel TEXT,
    public_key TEXT,
    token_hash TEXT NOT NULL UNIQUE,   -- sha256 of the token: the token itself is never stored
    created_at TEXT NOT NULL,
    revoked_at TEXT
  );
  CREATE TABLE IF NOT EXISTS enrolment_codes (
    code_hash TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    channel TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    device_id TEXT
  );
  CREATE TABLE IF NOT EXISTS region_keys (region TEXT PRIMARY KEY, public_key TEXT NOT NULL, private_key TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS repositories (region TEXT NOT NULL, channel TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (region, channel));
  CREATE TABLE IF NOT EXISTS tuf_metadata (
    region TEXT NOT NULL, channel TEXT NOT NULL, role TEXT NOT NULL, version INTEGER NOT NULL, json TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (region, channel, role, version)
  );
  -- Which blobs a repository may serve: a region's device can fetch only its own repository's targets.
  CREATE TABLE IF NOT EXISTS repository_targets (region TEXT NOT NULL, channel TEXT NOT NULL, sha256 TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (region, channel, sha256, name));
  CREATE TABLE IF NOT EXISTS reports (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    region TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    received_at TEXT NOT NULL,
    sealed_json TEXT NOT NULL,
    UNIQUE (device_id, idempotency_key)
  );
  CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    details_json TEXT NOT NULL
  );
  -- Append only, enforced by the database, not by the code's good manners.
  CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`;

/**
 * The registry's embedded storage: `registry.db` (SQLite, WAL) and a content-addressed `blobs/` folder beside it,
 * in the registry's own data folder (never a device workspace). Blob files are written atomically (temp, fsync,
 * rename) before the transaction that references them commits, so a crash leaves at most an unreferenced file.
 */
export class SqliteRegistryStore implements RegistryStore {
  private readonly db: Database.Database;
  private readonly blobDir: string;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.blobDir = join(dataDir, 'blobs');
    mkdirSync(join(this.blobDir, 'tmp'), { recursive: true });
    try {
      this.db = new Database(join(dataDir, 'registry.db'));
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(SCHEMA);
      this.db.exec(WEBHOOK_SCHEMA);
    } catch (e) {
      throw new AppraiseError('BAD_FILE', `cannot open the registry database in ${dataDir}: ${(e as Error).message}`);
    }
  }

  private auditInsert(actor: string, action: string, subject: string, details: unknown): void {
    this.db
      .prepare('INSERT INTO audit (at, actor, action, subject, details_json) VALUES (?, ?, ?, ?, ?)')
      .run(new Date().toISOString(), actor, action, subject, JSON.stringify(details ?? null));
  }

  async secret(name: string, create: () => string): Promise<string> {
    return this.db
      .transaction(() => {
        const row = this.db.prepare('SELECT value FROM secrets WHERE name = ?').get(name) as { value: string } | undefined;
        if (row) return row.value;
        const value = create();
        this.db.prepare('INSERT INTO secrets (name, value) VALUES (?, ?)').run(name, value);
        return value;
      })
      .immediate();
  }

  async addCredential(
    c: { id: string; role: Role; name: string; region: string | null; channel: Channel | null; publicKey: string | null; tokenHash: string },
    actor: string,
  ): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO credentials (id, role, name, region, channel, public_key, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(c.id, c.role, c.name, c.region, c.channel, c.publicKey, c.tokenHash, new Date().toISOString());
      this.auditInsert(actor, 'credential.create', c.id, { role: c.role, name: c.name, region: c.region });
    })();
  }

  async credentialByTokenHash(tokenHash: string): Promise<Credential | null> {
    const row = this.db.prepare('SELECT * FROM credentials WHERE token_hash = ?').get(tokenHash) as CredentialRow | undefined;
    return row ? toCredential(row) : null;
  }

  async revokeCredential(id: string, actor: string): Promise<Credential | null> {
    return this.db.transaction(() => {
      const changed = this.db.prepare('UPDATE credentials SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(new Date().toISOString(), id).changes;
      const row = this.db.prepare('SELECT * FROM credentials WHERE id = ?').get(id) as CredentialRow | undefined;
      if (changed > 0) this.auditInsert(actor, 'credential.revoke', id, null);
      return row ? toCredential(row) : null;
    })();
  }

  async listDevices(): Promise<Credential[]> {
    return (this.db.prepare("SELECT * FROM credentials WHERE role = 'device' ORDER BY created_at").all() as CredentialRow[]).map(toCredential);
  }

  async addEnrolmentCode(codeHash: string, code: { region: string; channel: Channel; expiresAt: string }, actor: string): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO enrolment_codes (code_hash, region, channel, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
        .run(codeHash, code.region, code.channel, new Date().toISOString(), code.expiresAt);
      this.auditInsert(actor, 'enrolment-code.create', code.region, { channel: code.channel, expiresAt: code.expiresAt });
    })();
  }

  async redeemEnrolmentCode(
    codeHash: string,
    now: string,
    device: { id: string; name: string; publicKey: string; tokenHash: string },
  ): Promise<EnrolmentCode | null> {
    return this.db
      .transaction(() => {
        const row = this.db.prepare('SELECT region, channel, expires_at, used_at FROM enrolment_codes WHERE code_hash = ?').get(codeHash) as
          { region: string; channel: Channel; expires_at: string; used_at: string | null } | undefined;
        if (!row || row.used_at !== null || row.expires_at <= now) return null;
        this.db.prepare('UPDATE enrolment_codes SET used_at = ?, device_id = ? WHERE code_hash = ?').run(now, device.id, codeHash);
        this.db
          .prepare("INSERT INTO credentials (id, role, name, region, channel, public_key, token_hash, created_at) VALUES (?, 'device', ?, ?, ?, ?, ?, ?)")
          .run(device.id, device.name, row.region, row.channel, device.publicKey, device.tokenHash, now);
        this.auditInsert(device.id, 'device.enrol', device.id, { name: device.name, region: row.region, channel: row.channel });
        return { region: row.region, channel: row.channel, expiresAt: row.expires_at, usedAt: now };
      })
      .immediate();
  }

  async regionKey(region: string, create: () => { publicKey: string; privateKey: string }): Promise<{ publicKey: string; privateKey: string }> {
    return this.db
      .transaction(() => {
        const row = this.db.prepare('SELECT public_key, private_key FROM region_keys WHERE region = ?').get(region) as
          { public_key: string; private_key: string } | undefined;
        if (row) return { publicKey: row.public_key, privateKey: row.private_key };
        const k = create();
        this.db.prepare('INSERT INTO region_keys (region, public_key, private_key) VALUES (?, ?, ?)').run(region, k.publicKey, k.privateKey);
        return k;
      })
      .immediate();
  }

  async addRepository(region: string, channel: Channel, actor: string): Promise<void> {
    this.db.transaction(() => {
      const added = this.db
        .prepare('INSERT OR IGNORE INTO repositories (region, channel, created_at) VALUES (?, ?, ?)')
        .run(region, channel, new Date().toISOString()).changes;
      if (added > 0) this.auditInsert(actor, 'repository.create', `${region}/${channel}`, null);
    })();
  }

  async hasRepository(region: string, channel: Channel): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM repositories WHERE region = ? AND channel = ?').get(region, channel) !== undefined;
  }

  async latestMetadata(region: string, channel: Channel, role: string): Promise<{ version: number; json: string } | null> {
    const row = this.db
      .prepare('SELECT version, json FROM tuf_metadata WHERE region = ? AND channel = ? AND role = ? ORDER BY version DESC LIMIT 1')
      .get(region, channel, role) as { version: number; json: string } | undefined;
    return row ?? null;
  }

  async metadata(region: string, channel: Channel, role: string, version: number): Promise<string | null> {
    const row = this.db
      .prepare('SELECT json FROM tuf_metadata WHERE region = ? AND channel = ? AND role = ? AND version = ?')
      .get(region, channel, role, version) as { json: string } | undefined;
    return row?.json ?? null;
  }

  async putMetadata(
    region: string,
    channel: Channel,
    entries: { role: string; version: number; json: string }[],
    blobs: { sha256: string; name: string; bytes: Buffer }[],
    audit: { actor: string; action: string; subject: string; details: unknown } | null,
    notice?: WebhookNotice,
  ): Promise<boolean> {
    for (const b of blobs) this.writeBlob(b.sha256, b.bytes);
    const now = new Date().toISOString();
    try {
      return this.db
        .transaction(() => {
          const insert = this.db.prepare('INSERT OR IGNORE INTO tuf_metadata (region, channel, role, version, json, created_at) VALUES (?, ?, ?, ?, ?, ?)');
          for (const e of entries) {
            if (insert.run(region, channel, e.role, e.version, e.json, now).changes === 0) throw new VersionTaken();
          }
          const target = this.db.prepare('INSERT OR IGNORE INTO repository_targets (region, channel, sha256, name) VALUES (?, ?, ?, ?)');
          for (const b of blobs) target.run(region, channel, b.sha256, b.name);
          if (audit) this.auditInsert(audit.actor, audit.action, audit.subject, audit.details);
          if (notice) this.queueNotice(notice, now);
          return true;
        })
        .immediate();
    } catch (e) {
      if (e instanceof VersionTaken) return false;
      throw e;
    }
  }

  private writeBlob(sha256: string, bytes: Buffer): void {
    const final = join(this.blobDir, sha256);
    if (existsSync(final)) return;
    const tmp = join(this.blobDir, 'tmp', `${sha256}.${randomUUID()}`);
    writeFileSync(tmp, bytes);
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, final);
  }

  async blob(region: string, channel: Channel, sha256: string, name: string): Promise<Buffer | null> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) return null;
    const known = this.db
      .prepare('SELECT 1 FROM repository_targets WHERE region = ? AND channel = ? AND sha256 = ? AND name = ?')
      .get(region, channel, sha256, name);
    if (!known) return null;
    const path = join(this.blobDir, sha256);
    if (!existsSync(path)) return null;
    const bytes = readFileSync(path);
    // A blob damaged on disk is served as missing rather than passed on; devices would refuse it anyway.
    return createHash('sha256').update(bytes).digest('hex') === sha256 ? bytes : null;
  }

  async addReport(r: StoredReport, notice?: WebhookNotice): Promise<{ report: StoredReport; duplicate: boolean }> {
    return this.db
      .transaction(() => {
        const inserted = this.db
          .prepare('INSERT OR IGNORE INTO reports (id, device_id, region, idempotency_key, received_at, sealed_json) VALUES (?, ?, ?, ?, ?, ?)')
          .run(r.id, r.deviceId, r.region, r.idempotencyKey, r.receivedAt, r.sealedJson).changes;
        const row = this.db.prepare('SELECT * FROM reports WHERE device_id = ? AND idempotency_key = ?').get(r.deviceId, r.idempotencyKey) as ReportRow;
        if (inserted > 0) this.auditInsert(r.deviceId, 'report.add', r.id, { idempotencyKey: r.idempotencyKey });
        if (inserted > 0 && notice) this.queueNotice(notice, r.receivedAt);
        return { report: toReport(row), duplicate: inserted === 0 };
      })
      .immediate();
  }

  async listReports(): Promise<StoredReport[]> {
    return (this.db.prepare('SELECT * FROM reports ORDER BY received_at, id').all() as ReportRow[]).map(toReport);
  }

  async report(id: string): Promise<StoredReport | null> {
    const row = this.db.prepare('SELECT * FROM reports WHERE id = ?').get(id) as ReportRow | undefined;
    return row ? toReport(row) : null;
  }

  /** One pending delivery per active webhook that listens for the event; called inside the event's transaction. */
  private queueNotice(notice: WebhookNotice, now: string): void {
    const hooks = this.db.prepare('SELECT id, events_json FROM webhooks WHERE disabled_at IS NULL').all() as { id: string; events_json: string }[];
    const insert = this.db.prepare(
      "INSERT INTO webhook_deliveries (id, webhook_id, event, payload_json, status, created_at, next_attempt_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
    );
    const payload = JSON.stringify(notice.payload ?? null);
    for (const h of hooks) {
      if ((JSON.parse(h.events_json) as WebhookEvent[]).includes(notice.event)) insert.run(`delivery_${randomUUID()}`, h.id, notice.event, payload, now, now);
    }
  }

  async addWebhook(w: { id: string; url: string; events: WebhookEvent[]; description: string; secretSealed: string }, actor: string): Promise<Webhook> {
    return this.db.transaction(() => {
      const now = new Date().toISOString();
      this.db
        .prepare('INSERT INTO webhooks (id, url, events_json, description, secret_sealed, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(w.id, w.url, JSON.stringify(w.events), w.description, w.secretSealed, now);
      this.auditInsert(actor, 'webhook.create', w.id, { url: w.url, events: w.events });
      return toWebhook(this.db.prepare('SELECT * FROM webhooks WHERE id = ?').get(w.id) as WebhookRow);
    })();
  }

  async listWebhooks(): Promise<Webhook[]> {
    return (this.db.prepare('SELECT * FROM webhooks ORDER BY created_at, id').all() as WebhookRow[]).map(toWebhook);
  }

  async disableWebhook(id: string, actor: string): Promise<Webhook | null> {
    return this.db
      .transaction(() => {
        const now = new Date().toISOString();
        const changed = this.db.prepare('UPDATE webhooks SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL').run(now, id).changes;
        if (changed > 0) {
          this.db.prepare("UPDATE webhook_deliveries SET status = 'cancelled', claim_token = NULL WHERE webhook_id = ? AND status = 'pending'").run(id);
          this.auditInsert(actor, 'webhook.disable', id, null);
        }
        const row = this.db.prepare('SELECT * FROM webhooks WHERE id = ?').get(id) as WebhookRow | undefined;
        return row ? toWebhook(row) : null;
      })
      .immediate();
  }

  async claimWebhookDeliveries(now: string, leaseUntil: string, claim: string, limit: number): Promise<ClaimedDelivery[]> {
    // IMMEDIATE takes the write lock before reading, so two instances on one database file never claim the same row.
    return this.db
      .transaction(() => {
        const due = this.db
          .prepare("SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?")
          .all(now, limit) as { id: string }[];
        const take = this.db.prepare('UPDATE webhook_deliveries SET claim_token = ?, next_attempt_at = ? WHERE id = ?');
        for (const d of due) take.run(claim, leaseUntil, d.id);
        const read = this.db.prepare('SELECT d.*, w.url, w.secret_sealed FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = ?');
        return due.map((d) => toClaimed(read.get(d.id) as DeliveryRow & { url: string; secret_sealed: string }));
      })
      .immediate();
  }

  async finishWebhookDelivery(
    id: string,
    claim: string,
    outcome: { at: string; delivered: boolean; status: number | null; error: string | null; nextAttemptAt: string | null },
  ): Promise<boolean> {
    return this.db
      .transaction(() => {
        const status = outcome.delivered ? 'delivered' : outcome.nextAttemptAt === null ? 'failed' : 'pending';
        const changed = this.db
          .prepare(
            `UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, last_status = ?, last_error = ?, delivered_at = ?,
               next_attempt_at = COALESCE(?, next_attempt_at), claim_token = NULL
             WHERE id = ? AND claim_token = ? AND status = 'pending'`,
          )
          .run(status, outcome.status, outcome.error, outcome.delivered ? outcome.at : null, outcome.nextAttemptAt, id, claim).changes;
        if (changed > 0 && status === 'failed') this.auditInsert('registry', 'webhook.give-up', id, { status: outcome.status, error: outcome.error });
        return changed > 0;
      })
      .immediate();
  }

  async webhookDeliveries(webhookId: string, limit: number): Promise<WebhookDelivery[]> {
    return (
      this.db.prepare('SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY created_at DESC, id LIMIT ?').all(webhookId, limit) as DeliveryRow[]
    ).map(toDelivery);
  }

  async audit(): Promise<AuditEntry[]> {
    const rows = this.db.prepare('SELECT * FROM audit ORDER BY seq').all() as {
      seq: number;
      at: string;
      actor: string;
      action: string;
      subject: string;
      details_json: string;
    }[];
    return rows.map((r) => ({ seq: r.seq, at: r.at, actor: r.actor, action: r.action, subject: r.subject, details: JSON.parse(r.details_json) as unknown }));
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/** Thrown inside a transaction to roll it back when another writer took the same metadata version. */
class VersionTaken extends Error {}
