// Row shapes of the credentials and reports tables and their mapping to the store's types: the same columns in
// both backends (SQLite and PostgreSQL), so one definition serves both stores.
import type { Channel, Role, WebhookEvent } from './registry-schemas.js';
import type { ClaimedDelivery, Credential, DeliveryStatus, StoredReport, Webhook, WebhookDelivery } from './registry-store.js';

export interface CredentialRow {
  id: string;
  role: Role;
  name: string;
  region: string | null;
  channel: Channel | null;
  public_key: string | null;
  revoked_at: string | null;
}
export interface ReportRow {
  id: string;
  device_id: string;
  region: string;
  idempotency_key: string;
  received_at: string;
  sealed_json: string;
}
export const toCredential = (r: CredentialRow): Credential => ({
  id: r.id,
  role: r.role,
  name: r.name,
  region: r.region,
  channel: r.channel,
  publicKey: r.public_key,
  revoked: r.revoked_at !== null,
});
export const toReport = (r: ReportRow): StoredReport => ({
  id: r.id,
  deviceId: r.device_id,
  region: r.region,
  idempotencyKey: r.idempotency_key,
  receivedAt: r.received_at,
  sealedJson: r.sealed_json,
});

export interface WebhookRow {
  id: string;
  url: string;
  events_json: string;
  description: string;
  created_at: string;
  disabled_at: string | null;
}
export interface DeliveryRow {
  id: string;
  webhook_id: string;
  event: WebhookEvent;
  payload_json: string;
  status: DeliveryStatus;
  attempts: number;
  created_at: string;
  next_attempt_at: string;
  delivered_at: string | null;
  last_status: number | null;
  last_error: string | null;
}
export const toWebhook = (r: WebhookRow): Webhook => ({
  id: r.id,
  url: r.url,
  events: JSON.parse(r.events_json) as WebhookEvent[],
  description: r.description,
  createdAt: r.created_at,
  disabledAt: r.disabled_at,
});
export const toDelivery = (r: DeliveryRow): WebhookDelivery => ({
  id: r.id,
  webhookId: r.webhook_id,
  event: r.event,
  payloadJson: r.payload_json,
  status: r.status,
  attempts: Number(r.attempts),
  createdAt: r.created_at,
  nextAttemptAt: r.next_attempt_at,
  deliveredAt: r.delivered_at,
  lastStatus: r.last_status === null ? null : Number(r.last_status),
  lastError: r.last_error,
});
export const toClaimed = (r: DeliveryRow & { url: string; secret_sealed: string }): ClaimedDelivery => ({
  ...toDelivery(r),
  url: r.url,
  secretSealed: r.secret_sealed,
});

/** Table definitions shared by both backends (plain SQL both accept). */
export const WEBHOOK_SCHEMA = `
  CREATE TABLE IF NOT EXISTS webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    events_json TEXT NOT NULL,
    description TEXT NOT NULL,
    -- AES-256-GCM under the registry's webhook key: the registry must sign with the secret, so it cannot keep only a hash.
    secret_sealed TEXT NOT NULL,
    created_at TEXT NOT NULL,
    disabled_at TEXT
  );
  -- The persistent delivery queue: a notice is queued with the change it reports and leaves only when delivered,
  -- given up on or cancelled; claim_token says which dispatcher holds it until next_attempt_at.
  CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id TEXT PRIMARY KEY,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id),
    event TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    delivered_at TEXT,
    last_status INTEGER,
    last_error TEXT,
    claim_token TEXT
  );
  CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
  CREATE INDEX IF NOT EXISTS webhook_deliveries_by_hook ON webhook_deliveries (webhook_id, created_at);
`;
