import type { Channel, Role, WebhookEvent } from './registry-schemas.js';

export interface Credential {
  id: string;
  role: Role;
  name: string;
  /** Devices are bound to one region and channel; admins and publishers are not. */
  region: string | null;
  channel: Channel | null;
  /** A device's Ed25519 public key (hex), which its reports are signed with. */
  publicKey: string | null;
  revoked: boolean;
}

export interface EnrolmentCode {
  region: string;
  channel: Channel;
  expiresAt: string;
  usedAt: string | null;
}

export interface StoredReport {
  id: string;
  deviceId: string;
  region: string;
  idempotencyKey: string;
  receivedAt: string;
  sealedJson: string;
}

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  details: unknown;
}

export interface Webhook {
  id: string;
  url: string;
  events: WebhookEvent[];
  description: string;
  createdAt: string;
  disabledAt: string | null;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'cancelled';
export interface WebhookDelivery {
  id: string;
  webhookId: string;
  event: WebhookEvent;
  /** The event's data as JSON text; the body sent is built from the stored columns, so every retry sends the same bytes. */
  payloadJson: string;
  status: DeliveryStatus;
  attempts: number;
  createdAt: string;
  nextAttemptAt: string;
  deliveredAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
}
/** A delivery one dispatcher holds until its lease ends: where to send it and the sealed secret to sign it with. */
export interface ClaimedDelivery extends WebhookDelivery {
  url: string;
  secretSealed: string;
}
/** An event to notify webhooks of, queued in the same transaction as the change it reports. */
export interface WebhookNotice {
  event: WebhookEvent;
  payload: unknown;
}

/**
 * Everything the registry keeps, behind one interface so an organisation can move from the embedded SQLite
 * database (the default) to PostgreSQL without touching routes. Methods are async for that reason. Tokens and
 * enrolment codes arrive here already hashed: the store never sees a secret it could leak. Every mutation that
 * takes an `actor` also appends to the audit log in the same transaction.
 */
export interface RegistryStore {
  /** A named secret the registry itself owns (online signing key, report key); created by `create` on first use. */
  secret(name: string, create: () => string): Promise<string>;

  addCredential(
    c: { id: string; role: Role; name: string; region: string | null; channel: Channel | null; publicKey: string | null; tokenHash: string },
    actor: string,
  ): Promise<void>;
  credentialByTokenHash(tokenHash: string): Promise<Credential | null>;
  revokeCredential(id: string, actor: string): Promise<Credential | null>;
  listDevices(): Promise<Credential[]>;

  addEnrolmentCode(codeHash: string, code: { region: string; channel: Channel; expiresAt: string }, actor: string): Promise<void>;
  /**
   * Marks the code used and adds the device's credential, atomically: a code enrols exactly one device, even when
   * two devices race with it. Null when the code is unknown, used or expired (the caller cannot tell which, on purpose).
   */
  redeemEnrolmentCode(codeHash: string, now: string, device: { id: string; name: string; publicKey: string; tokenHash: string }): Promise<EnrolmentCode | null>;

  /** The region's X25519 key pair (raw, base64), created by `create` the first time the region is named. */
  regionKey(region: string, create: () => { publicKey: string; privateKey: string }): Promise<{ publicKey: string; privateKey: string }>;
  addRepository(region: string, channel: Channel, actor: string): Promise<void>;
  hasRepository(region: string, channel: Channel): Promise<boolean>;

  /** The newest version of a TUF role's metadata (JSON text), or null. */
  latestMetadata(region: string, channel: Channel, role: string): Promise<{ version: number; json: string } | null>;
  metadata(region: string, channel: Channel, role: string, version: number): Promise<string | null>;
  /**
   * Stores metadata versions (and blobs) in one transaction; refuses (returns false) if any (role, version)
   * already exists, so two instances publishing at once cannot both win.
   */
  putMetadata(
    region: string,
    channel: Channel,
    entries: { role: string; version: number; json: string }[],
    blobs: { sha256: string; name: string; bytes: Buffer }[],
    audit: { actor: string; action: string; subject: string; details: unknown } | null,
    notice?: WebhookNotice,
  ): Promise<boolean>;
  /** A target's bytes, only if it belongs to this repository. */
  blob(region: string, channel: Channel, sha256: string, name: string): Promise<Buffer | null>;

  /** Stores a report once per (device, idempotency key); returns the stored one and whether it was already there. */
  addReport(r: StoredReport, notice?: WebhookNotice): Promise<{ report: StoredReport; duplicate: boolean }>;
  listReports(): Promise<StoredReport[]>;
  report(id: string): Promise<StoredReport | null>;

  addWebhook(w: { id: string; url: string; events: WebhookEvent[]; description: string; secretSealed: string }, actor: string): Promise<Webhook>;
  listWebhooks(): Promise<Webhook[]>;
  /** Stops a webhook (kept, with its delivery log) and cancels its pending deliveries; null if unknown. */
  disableWebhook(id: string, actor: string): Promise<Webhook | null>;
  /**
   * Takes up to `limit` pending deliveries due at `now` for this dispatcher: marks them with `claim` and moves
   * their next attempt to `leaseUntil`, so no other instance sends them meanwhile (and one will, if this one dies).
   */
  claimWebhookDeliveries(now: string, leaseUntil: string, claim: string, limit: number): Promise<ClaimedDelivery[]>;
  /**
   * Records an attempt's outcome, only if `claim` still holds the delivery: delivered; or retried at
   * `nextAttemptAt`; or, with `nextAttemptAt` null, failed for good (audited).
   */
  finishWebhookDelivery(
    id: string,
    claim: string,
    outcome: { at: string; delivered: boolean; status: number | null; error: string | null; nextAttemptAt: string | null },
  ): Promise<boolean>;
  webhookDeliveries(webhookId: string, limit: number): Promise<WebhookDelivery[]>;

  audit(): Promise<AuditEntry[]>;
  /** Readiness: the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
