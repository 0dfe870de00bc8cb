import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { AppraiseError } from '../core/common/errors.js';
import type { ClaimedDelivery, RegistryStore } from './registry-store.js';

/**
 * Signed webhooks: the registry tells downstream systems about new models, app releases and reports. Each POST
 * carries `X-Appraise-Timestamp` (Unix seconds) and `X-Appraise-Signature: sha256=<hex HMAC-SHA256(secret,
 * "<timestamp>.<body>")>`, the scheme MLflow and Stripe use: the receiver checks it with the secret it was shown
 * once, and refuses old timestamps, so a captured request cannot be replayed later. `X-Appraise-Delivery` is stable
 * across retries, so a receiver that saw it already can answer 2xx and do nothing.
 */

export const SIGNATURE_HEADER = 'x-appraise-signature';
export const TIMESTAMP_HEADER = 'x-appraise-timestamp';
export const DELIVERY_HEADER = 'x-appraise-delivery';
export const EVENT_HEADER = 'x-appraise-event';

export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * For receivers (and tests): whether `signature` is the registry's over `timestamp.body`, and the timestamp within
 * `toleranceSeconds` of `nowSeconds`. Constant-time comparison.
 */
export function verifyWebhookSignature(input: {
  secret: string;
  timestamp: string | undefined;
  body: string;
  signature: string | undefined;
  toleranceSeconds?: number;
  nowSeconds?: number;
}): boolean {
  if (!input.timestamp || !input.signature || !/^\d{1,12}$/.test(input.timestamp)) return false;
  const ts = Number(input.timestamp);
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - ts) > (input.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signWebhook(input.secret, ts, input.body));
  const given = Buffer.from(input.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * Webhook secrets at rest: the registry has to sign with them, so a hash would not do; they are sealed with
 * AES-256-GCM under a key the registry keeps apart from the webhooks table (its `secrets` store), so a dump of the
 * webhook rows alone gives no secret.
 */
export function sealSecret(key: Buffer, secret: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([c.update(secret, 'utf8'), c.final()]);
  return `v1.${iv.toString('base64')}.${c.getAuthTag().toString('base64')}.${ct.toString('base64')}`;
}

export function openSecret(key: Buffer, sealed: string): string {
  const [v, iv, tag, ct] = sealed.split('.');
  if (v !== 'v1' || !iv || !tag || !ct) throw new AppraiseError('BAD_FILE', 'a webhook secret in the registry database is not in the expected form');
  try {
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    d.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([d.update(Buffer.from(ct, 'base64')), d.final()]).toString('utf8');
  } catch {
    throw new AppraiseError('BAD_FILE', "a webhook secret does not open with the registry's webhook key (the database and its secrets do not belong together)");
  }
}

/** The exact bytes POSTed for a delivery: built from stored columns only, so every retry sends the same body. */
export function deliveryBody(d: Pick<ClaimedDelivery, 'id' | 'event' | 'createdAt' | 'payloadJson'>): string {
  return JSON.stringify({ id: d.id, event: d.event, createdAt: d.createdAt, data: JSON.parse(d.payloadJson) as unknown });
}

export interface WebhookOptions {
  /** Start the background dispatcher (default true); tests that drive `runOnce` themselves turn it off. */
  enabled?: boolean;
  /** How often to look for due deliveries, ms (default 2000); new events also wake the dispatcher at once. */
  pollMs?: number;
  /** First retry delay, ms (default 10 s), doubled per attempt up to `backoffMaxMs` (default 1 h), with jitter. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Attempts before a delivery is given up on (default 10: about 2.5 hours of retries at the defaults). */
  maxAttempts?: number;
  /** Per-request timeout, ms (default 10 s). */
  timeoutMs?: number;
  /** Deliveries taken per round (default 20). */
  batch?: number;
}

/**
 * Sends due deliveries from the persistent queue. Every registry instance runs one; the store's claim (a
 * transaction on SQLite, `FOR UPDATE SKIP LOCKED` on PostgreSQL) gives each due delivery to one of them, for a
 * lease of the request timeout plus a margin, after which another instance retries it if this one died mid-send.
 */
export class WebhookDispatcher {
  private readonly opts: Required<WebhookOptions>;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly store: RegistryStore,
    private readonly key: Buffer,
    options: WebhookOptions = {},
  ) {
    this.opts = {
      enabled: options.enabled ?? true,
      pollMs: options.pollMs ?? 2000,
      backoffBaseMs: options.backoffBaseMs ?? 10_000,
      backoffMaxMs: options.backoffMaxMs ?? 3_600_000,
      maxAttempts: options.maxAttempts ?? 10,
      timeoutMs: options.timeoutMs ?? 10_000,
      batch: options.batch ?? 20,
    };
  }

  start(): void {
    if (!this.opts.enabled || this.timer || this.stopped) return;
    this.timer = setInterval(() => this.kick(), this.opts.pollMs);
    this.timer.unref();
  }

  /** Looks for due deliveries now (after an event); a round already running picks up the new ones right after. */
  kick(): void {
    if (!this.opts.enabled || this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    void this.runOnce().catch(() => undefined);
  }

  /** One round: claims due deliveries and sends them; returns how many were attempted. */
  runOnce(): Promise<number> {
    if (this.running) return this.running;
    this.running = (async () => {
      let total = 0;
      try {
        do {
          this.again = false;
          const now = Date.now();
          const claim = `claim_${randomUUID()}`;
          const leaseUntil = new Date(now + this.opts.timeoutMs + 30_000).toISOString();
          const due = await this.store.claimWebhookDeliveries(new Date(now).toISOString(), leaseUntil, claim, this.opts.batch);
          await Promise.all(due.map((d) => this.send(d, claim)));
          total += due.length;
          if (due.length === this.opts.batch) this.again = true;
        } while (this.again && !this.stopped);
      } finally {
        this.running = null;
      }
      return total;
    })();
    return this.running;
  }

  private async send(d: ClaimedDelivery, claim: string): Promise<void> {
    const body = deliveryBody(d);
    const timestamp = Math.floor(Date.now() / 1000);
    let status: number | null = null;
    let error: string | null = null;
    try {
      const secret = openSecret(this.key, d.secretSealed);
      const res = await fetch(d.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Appraise-Registry-Webhook/1',
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signWebhook(secret, timestamp, body),
          [DELIVERY_HEADER]: d.id,
          [EVENT_HEADER]: d.event,
        },
        body,
        // A redirect is an answer, not a hop: following it could send signed data somewhere the admin never named.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
      if (status < 200 || status >= 300) error = `the receiver answered HTTP ${status}`;
    } catch (e) {
      error = `could not deliver: ${(e as Error).message}`.slice(0, 300);
    }
    const at = new Date().toISOString();
    const delivered = error === null;
    const attempts = d.attempts + 1;
    const nextAttemptAt = delivered || attempts >= this.opts.maxAttempts ? null : new Date(Date.now() + this.backoff(attempts)).toISOString();
    await this.store.finishWebhookDelivery(d.id, claim, { at, delivered, status, error, nextAttemptAt }).catch(() => undefined);
  }

  /** Exponential backoff with "equal jitter": at least half the delay, so retries from many deliveries spread out. */
  private backoff(attempts: number): number {
    const d = Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** (attempts - 1));
    return d / 2 + Math.random() * (d / 2);
  }

  /** Stops polling and waits for the round in flight, so the store can close under it safely. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}
