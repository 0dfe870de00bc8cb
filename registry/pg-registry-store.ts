import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
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
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
  );
  CREATE TABLE IF NOT EXISTS enrolment_codes (
    code_hash TEXT PRIMARY KEY, region TEXT NOT NULL, channel TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL, used_at TEXT, device_id TEXT
  );
  CREATE TABLE IF NOT EXISTS region_keys (region TEXT PRIMARY KEY, public_key TEXT NOT NULL, private_key TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS repositories (region TEXT NOT NULL, channel TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (region, channel));
  CREATE TABLE IF NOT EXISTS tuf_metadata (
    region TEXT NOT NULL, channel TEXT NOT NULL, role TEXT NOT NULL, version INTEGER NOT NULL, json TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (region, channel, role, version)
  );
  -- Blobs live in the database, not on one instance's disk: every instance behind the load balancer serves them.
  CREATE TABLE IF NOT EXISTS blobs (sha256 TEXT PRIMARY KEY, bytes BYTEA NOT NULL);
  CREATE TABLE IF NOT EXISTS repository_targets (region TEXT NOT NULL, channel TEXT NOT NULL, sha256 TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (region, channel, sha256, name));
  CREATE TABLE IF NOT EXISTS reports (
    id TEXT PRIMARY KEY, device_id TEXT NOT NULL, region TEXT NOT NULL, idempotency_key TEXT NOT NULL, received_at TEXT NOT NULL, sealed_json TEXT NOT NULL,
    UNIQUE (device_id, idempotency_key)
  );
  CREATE TABLE IF NOT EXISTS audit (
    seq BIGSERIAL PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL, details_json TEXT NOT NULL
  );
  CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
  DROP TRIGGER IF EXISTS audit_no_change ON audit;
  CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
`;

/**
 * The registry on PostgreSQL, for an organisation that runs several stateless registry instances on one database
 * behind a load balancer. Same tables as the SQLite store; uniqueness and the audit log's append-only rule are
 * the database's, so concurrent instances cannot both take a metadata version or store a report twice.
 */
export class PgRegistryStore implements RegistryStore {
  private constructor(private readonly pool: pg.Pool) {}

  /** Connects and creates the tables if needed (idempotent; an advisory lock keeps concurrent instances apart). */
  static async open(connectionString: string): Promise<PgRegistryStore> {
    const pool = new pg.Pool({ connectionString, max: 10 });
    // An idle connection dropped by the server (restart, failover) must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    try {
      const client = await pool.connect();
      try {
        await client.query('SELECT pg_advisory_lock(4120012)');
        await client.query(SCHEMA);
        await client.query(WEBHOOK_SCHEMA);
        await client.query('SELECT pg_advisory_unlock(4120012)');
      } finally {
        client.release();
      }
    } catch (e) {
      await pool.end();
      throw new AppraiseError('OFFLINE', `cannot open the registry database on PostgreSQL: ${(e as Error).message}`);
    }
    return new PgRegistryStore(pool);
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const result = await fn(c);
      await c.query('COMMIT');
      return result;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  private audit1(c: pg.PoolClient, actor: string, action: string, subject: string, details: unknown) {
    return c.query('INSERT INTO audit (at, actor, action, subject, details_json) VALUES ($1, $2, $3, $4, $5)', [
      new Date().toISOString(),
      actor,
      action,
      subject,
      JSON.stringify(details ?? null),
    ]);
  }

  async secret(name: string, create: () => string): Promise<string> {
    // Two instances starting together: the first insert wins and both read the winner.
    await this.pool.query('INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, create()]);
    return (await this.pool.query<{ value: string }>('SELECT value FROM secrets WHERE name = $1', [name])).rows[0].value;
  }

  async addCredential(
    c: { id: string; role: Role; name: string; region: string | null; channel: Channel | null; publicKey: string | null; tokenHash: string },
    actor: string,
  ): Promise<void> {
    await this.tx(async (t) => {
      await t.query('INSERT INTO credentials (id, role, name, region, channel, public_key, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
        c.id,
        c.role,
        c.name,
        c.region,
        c.channel,
        c.publicKey,
        c.tokenHash,
        new Date().toISOString(),
      ]);
      await this.audit1(t, actor, 'credential.create', c.id, { role: c.role, name: c.name, region: c.region });
    });
  }

  async credentialByTokenHash(tokenHash: string): Promise<Credential | null> {
    const r = await this.pool.query<CredentialRow>('SELECT * FROM credentials WHERE token_hash = $1', [tokenHash]);
    return r.rows[0] ? toCredential(r.rows[0]) : null;
  }

  async revokeCredential(id: string, actor: string): Promise<Credential | null> {
    return this.tx(async (t) => {
      const changed = await t.query('UPDATE credentials SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [new Date().toISOString(), id]);
      if ((changed.rowCount ?? 0) > 0) await this.audit1(t, actor, 'credential.revoke', id, null);
      const r = await t.query<CredentialRow>('SELECT * FROM credentials WHERE id = $1', [id]);
      return r.rows[0] ? toCredential(r.rows[0]) : null;
    });
  }

  async listDevices(): Promise<Credential[]> {
    return (await this.pool.query<CredentialRow>("SELECT * FROM credentials WHERE role = 'device' ORDER BY created_at")).rows.map(toCredential);
  }

  async addEnrolmentCode(codeHash: string, code: { region: string; channel: Channel; expiresAt: string }, actor: string): Promise<void> {
    await this.tx(async (t) => {
      await t.query('INSERT INTO enrolment_codes (code_hash, region, channel, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [
        codeHash,
        code.region,
        code.channel,
        new Date().toISOString(),
        code.expiresAt,
      ]);
      await this.audit1(t, actor, 'enrolment-code.create', code.region, { channel: code.channel, expiresAt: code.expiresAt });
    });
  }

  async redeemEnrolmentCode(
    codeHash: string,
    now: string,
    device: { id: string; name: string; publicKey: string; tokenHash: string },
  ): Promise<EnrolmentCode | null> {
    return this.tx(async (t) => {
      // The conditional update is the race guard: of two devices with one code, one updates a row.
      const r = await t.query<{ region: string; channel: Channel; expires_at: string }>(
        'UPDATE enrolment_codes SET used_at = $1, device_id = $2 WHERE code_hash = $3 AND used_at IS NULL AND expires_at > $1 RETURNING region, channel, expires_at',
        [now, device.id, codeHash],
      );
      const row = r.rows[0];
      if (!row) return null;
      await t.query(
        "INSERT INTO credentials (id, role, name, region, channel, public_key, token_hash, created_at) VALUES ($1, 'device', $2, $3, $4, $5, $6, $7)",
        [device.id, device.name, row.region, row.channel, device.publicKey, device.tokenHash, now],
      );
      await this.audit1(t, device.id, 'device.enrol', device.id, { name: device.name, region: row.region, channel: row.channel });
      return { region: row.region, channel: row.channel, expiresAt: row.expires_at, usedAt: now };
    });
  }

  async regionKey(region: string, create: () => { publicKey: string; privateKey: string }): Promise<{ publicKey: string; privateKey: string }> {
    const k = create();
    await this.pool.query('INSERT INTO region_keys (region, public_key, private_key) VALUES ($1, $2, $3) ON CONFLICT (region) DO NOTHING', [
      region,
      k.publicKey,
      k.privateKey,
    ]);
    const r = await this.pool.query<{ public_key: string; private_key: string }>('SELECT public_key, private_key FROM region_keys WHERE region = $1', [region]);
    return { publicKey: r.rows[0].public_key, privateKey: r.rows[0].private_key };
  }

  async addRepository(region: string, channel: Channel, actor: string): Promise<void> {
    await this.tx(async (t) => {
      const r = await t.query('INSERT INTO repositories (region, channel, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
        region,
        channel,
        new Date().toISOString(),
      ]);
      if ((r.rowCount ?? 0) > 0) await this.audit1(t, actor, 'repository.create', `${region}/${channel}`, null);
    });
  }

  async hasRepository(region: string, channel: Channel): Promise<boolean> {
    return (await this.pool.query('SELECT 1 FROM repositories WHERE region = $1 AND channel = $2', [region, channel])).rowCount === 1;
  }

  async latestMetadata(region: string, channel: Channel, role: string): Promise<{ version: number; json: string } | null> {
    const r = await this.pool.query<{ version: number; json: string }>(
      'SELECT version, json FROM tuf_metadata WHERE region = $1 AND channel = $2 AND role = $3 ORDER BY version DESC LIMIT 1',
      [region, channel, role],
    );
    return r.rows[0] ?? null;
  }

  async metadata(region: string, channel: Channel, role: string, version: number): Promise<string | null> {
    const r = await this.pool.query<{ json: string }>('SELECT json FROM tuf_metadata WHERE region = $1 AND channel = $2 AND role = $3 AND version = $4', [
      region,
      channel,
      role,
      version,
    ]);
    return r.rows[0]?.json ?? null;
  }

  async putMetadata(
    region: string,
    channel: Channel,
    entries: { role: string; version: number; json: string }[],
    blobs: { sha256: string; name: string; bytes: Buffer }[],
    audit: { actor: string; action: string; subject: string; details: unknown } | null,
    notice?: WebhookNotice,
  ): Promise<boolean> {
    try {
      return await this.tx(async (t) => {
        const now = new Date().toISOString();
        for (const e of entries) {
          const r = await t.query(
            'INSERT INTO tuf_metadata (region, channel, role, version, json, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING',
            [region, channel, e.role, e.version, e.json, now],
          );
          if (r.rowCount === 0) throw new VersionTaken();
        }
        for (const b of blobs) {
          await t.query('INSERT INTO blobs (sha256, bytes) VALUES ($1, $2) ON CONFLICT DO NOTHING', [b.sha256, b.bytes]);
          await t.query('INSERT INTO repository_targets (region, channel, sha256, name) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
            region,
            channel,
            b.sha256,
            b.name,
          ]);
        }
        if (audit) await this.audit1(t, audit.actor, audit.action, audit.subject, audit.details);
        if (notice) await this.queueNotice(t, notice, now);
        return true;
      });
    } catch (e) {
      if (e instanceof VersionTaken) return false;
      throw e;
    }
  }

  async blob(region: string, channel: Channel, sha256: string, name: string): Promise<Buffer | null> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) return null;
    const r = await this.pool.query<{ bytes: Buffer }>(
      'SELECT b.bytes FROM blobs b JOIN repository_targets t ON t.sha256 = b.sha256 WHERE t.region = $1 AND t.channel = $2 AND t.sha256 = $3 AND t.name = $4',
      [region, channel, sha256, name],
    );
    const bytes = r.rows[0]?.bytes;
    return bytes && createHash('sha256').update(bytes).digest('hex') === sha256 ? bytes : null;
  }

  async addReport(r: StoredReport, notice?: WebhookNotice): Promise<{ report: StoredReport; duplicate: boolean }> {
    return this.tx(async (t) => {
      const ins = await t.query(
        'INSERT INTO reports (id, device_id, region, idempotency_key, received_at, sealed_json) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (device_id, idempotency_key) DO NOTHING',
        [r.id, r.deviceId, r.region, r.idempotencyKey, r.receivedAt, r.sealedJson],
      );
      const inserted = (ins.rowCount ?? 0) > 0;
      if (inserted) await this.audit1(t, r.deviceId, 'report.add', r.id, { idempotencyKey: r.idempotencyKey });
      if (inserted && notice) await this.queueNotice(t, notice, r.receivedAt);
      const row = (await t.query<ReportRow>('SELECT * FROM reports WHERE device_id = $1 AND idempotency_key = $2', [r.deviceId, r.idempotencyKey])).rows[0];
      return { report: toReport(row), duplicate: !inserted };
    });
  }

  async listReports(): Promise<StoredReport[]> {
    return (await this.pool.query<ReportRow>('SELECT * FROM reports ORDER BY received_at, id')).rows.map(toReport);
  }

  async report(id: string): Promise<StoredReport | null> {
    const r = await this.pool.query<ReportRow>('SELECT * FROM reports WHERE id = $1', [id]);
    return r.rows[0] ? toReport(r.rows[0]) : null;
  }

  /** One pending delivery per active webhook that listens for the event; runs inside the event's transaction. */
  private async queueNotice(t: pg.PoolClient, notice: WebhookNotice, now: string): Promise<void> {
    const hooks = (await t.query<{ id: string; events_json: string }>('SELECT id, events_json FROM webhooks WHERE disabled_at IS NULL')).rows;
    const payload = JSON.stringify(notice.payload ?? null);
    for (const h of hooks) {
      if (!(JSON.parse(h.events_json) as WebhookEvent[]).includes(notice.event)) continue;
      await t.query(
        "INSERT INTO webhook_deliveries (id, webhook_id, event, payload_json, status, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, 'pending', $5, $5)",
        [`delivery_${randomUUID()}`, h.id, notice.event, payload, now],
      );
    }
  }

  async addWebhook(w: { id: string; url: string; events: WebhookEvent[]; description: string; secretSealed: string }, actor: string): Promise<Webhook> {
    return this.tx(async (t) => {
      const r = await t.query<WebhookRow>(
        'INSERT INTO webhooks (id, url, events_json, description, secret_sealed, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *',
        [w.id, w.url, JSON.stringify(w.events), w.description, w.secretSealed, new Date().toISOString()],
      );
      await this.audit1(t, actor, 'webhook.create', w.id, { url: w.url, events: w.events });
      return toWebhook(r.rows[0]);
    });
  }

  async listWebhooks(): Promise<Webhook[]> {
    return (await this.pool.query<WebhookRow>('SELECT * FROM webhooks ORDER BY created_at, id')).rows.map(toWebhook);
  }

  async disableWebhook(id: string, actor: string): Promise<Webhook | null> {
    return this.tx(async (t) => {
      const changed = await t.query('UPDATE webhooks SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL', [new Date().toISOString(), id]);
      if ((changed.rowCount ?? 0) > 0) {
        await t.query("UPDATE webhook_deliveries SET status = 'cancelled', claim_token = NULL WHERE webhook_id = $1 AND status = 'pending'", [id]);
        await this.audit1(t, actor, 'webhook.disable', id, null);
      }
      const r = await t.query<WebhookRow>('SELECT * FROM webhooks WHERE id = $1', [id]);
      return r.rows[0] ? toWebhook(r.rows[0]) : null;
    });
  }

  async claimWebhookDeliveries(now: string, leaseUntil: string, claim: string, limit: number): Promise<ClaimedDelivery[]> {
    // SKIP LOCKED: instances polling at the same moment each take different rows instead of queueing on one another.
    const r = await this.pool.query<DeliveryRow & { url: string; secret_sealed: string }>(
      `WITH due AS (
         SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1
         ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED
       )
       UPDATE webhook_deliveries d SET claim_token = $3, next_attempt_at = $2
       FROM due, webhooks w WHERE d.id = due.id AND w.id = d.webhook_id
       RETURNING d.*, w.url, w.secret_sealed`,
      [now, leaseUntil, claim, limit],
    );
    return r.rows.map(toClaimed);
  }

  async finishWebhookDelivery(
    id: string,
    claim: string,
    outcome: { at: string; delivered: boolean; status: number | null; error: string | null; nextAttemptAt: string | null },
  ): Promise<boolean> {
    return this.tx(async (t) => {
      const status = outcome.delivered ? 'delivered' : outcome.nextAttemptAt === null ? 'failed' : 'pending';
      const r = await t.query(
        `UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, last_status = $2, last_error = $3, delivered_at = $4,
           next_attempt_at = COALESCE($5, next_attempt_at), claim_token = NULL
         WHERE id = $6 AND claim_token = $7 AND status = 'pending'`,
        [status, outcome.status, outcome.error, outcome.delivered ? outcome.at : null, outcome.nextAttemptAt, id, claim],
      );
      const changed = (r.rowCount ?? 0) > 0;
      if (changed && status === 'failed') await this.audit1(t, 'registry', 'webhook.give-up', id, { status: outcome.status, error: outcome.error });
      return changed;
    });
  }

  async webhookDeliveries(webhookId: string, limit: number): Promise<WebhookDelivery[]> {
    const r = await this.pool.query<DeliveryRow>('SELECT * FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY created_at DESC, id LIMIT $2', [
      webhookId,
      limit,
    ]);
    return r.rows.map(toDelivery);
  }

  async audit(): Promise<AuditEntry[]> {
    const r = await this.pool.query<{ seq: string; at: string; actor: string; action: string; subject: string; details_json: string }>(
      'SELECT * FROM audit ORDER BY seq',
    );
    return r.rows.map((x) => ({
      seq: Number(x.seq),
      at: x.at,
      actor: x.actor,
      action: x.action,
      subject: x.subject,
      details: JSON.parse(x.details_json) as unknown,
    }));
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

class VersionTaken extends Error {}
