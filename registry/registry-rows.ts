// Row shapes of the credentials and reports tables and their mapping to the store's types: the same columns in
// both backends (SQLite and PostgreSQL), so one definition serves both stores.
import type { Channel, Role } from './registry-schemas.js';
import type { Credential, StoredReport } from './registry-store.js';

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
