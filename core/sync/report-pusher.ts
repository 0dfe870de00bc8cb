import { z } from 'zod';
import { errorCodeSchema, type ErrorCode } from '../common/errors.js';
import type { Outbox, OutboxEntry } from './outbox.js';
import { seal } from './sealed-box.js';
import { signBytes } from './signing-keys.js';
import type { DeviceEnrolment } from './sync-schemas.js';

export interface PushOptions {
  now?: Date;
  /** In [0, 1): the jitter source; seeded in tests. */
  random?: () => number;
  /** First retry delay; doubles per attempt up to `maxDelayMs`. Defaults 5 s and 1 h. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  /** Ends the push early (the app host closing); what was not sent stays in the outbox. */
  signal?: AbortSignal;
  /** Send every waiting report, not only those whose retry time has come (a person pressed "Sync now"). */
  ignoreRetryTimes?: boolean;
}

export const pushResultSchema = z.object({
  delivered: z.number(),
  /** Of those delivered, how many the registry already had (an earlier answer was lost). */
  duplicates: z.number(),
  failed: z.number(),
  /** Still in the outbox after this push. */
  remaining: z.number(),
  lastError: z.string().nullable(),
  /** What kind of failure `lastError` is: OFFLINE, UNAUTHORIZED, FORBIDDEN, RATE_LIMITED, INVALID_INPUT; null without one. */
  lastErrorCode: errorCodeSchema.nullable(),
});
export type PushResult = z.output<typeof pushResultSchema>;

const acceptedSchema = z.object({ id: z.string(), duplicate: z.boolean() });

/**
 * Exponential backoff with "equal jitter": half the delay fixed, half random, so devices that failed together do
 * not retry together, and no retry comes sooner than half the backoff.
 */
export function backoffDelay(attempts: number, random: () => number, baseDelayMs = 5_000, maxDelayMs = 3_600_000): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(attempts, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Seconds of an HTTP `Retry-After` header (the registry's rate limit sends one), in ms; null when absent. */
function retryAfterMs(response: Response): number | null {
  const seconds = Number(response.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : null;
}

const codeOfStatus = (status: number): ErrorCode =>
  status === 401 ? 'UNAUTHORIZED' : status === 403 ? 'FORBIDDEN' : status === 429 ? 'RATE_LIMITED' : status >= 500 ? 'OFFLINE' : 'INVALID_INPUT';

/**
 * Sends the outbox's due reports to the registry: each encrypted for the registry's report key, signed with the
 * device key, with its outbox id as idempotency key. A report is acknowledged (leaves the outbox) only on a 2xx
 * answer; anything else keeps it with a later retry time. A 401/403 stops the push: the credential is the
 * problem, and hammering the registry would not fix it. So does a 429: the registry asked this device to slow
 * down, and its reports wait at least as long as its `Retry-After` says.
 */
export async function pushReports(enrolment: DeviceEnrolment, outbox: Outbox, options: PushOptions = {}): Promise<PushResult> {
  const now = options.now ?? new Date();
  const random = options.random ?? Math.random;
  let delivered = 0;
  let duplicates = 0;
  let failed = 0;
  let lastError: string | null = null;
  let lastErrorCode: ErrorCode | null = null;
  const retry = (entry: OutboxEntry, error: string, code: ErrorCode, notBeforeMs: number | null = null) => {
    failed++;
    lastError = error;
    lastErrorCode = code;
    const delay = Math.max(backoffDelay(entry.attempts, random, options.baseDelayMs, options.maxDelayMs), notBeforeMs ?? 0);
    outbox.retryLater(entry.id, error, new Date(now.getTime() + delay));
  };
  const entries = options.ignoreRetryTimes ? outbox.list() : outbox.due(now);
  for (const entry of entries) {
    if (options.signal?.aborted) break;
    const sealedJson = JSON.stringify(
      seal(Buffer.from(JSON.stringify({ kind: entry.kind, createdAt: entry.createdAt, payload: entry.payload })), enrolment.reportPublicKey),
    );
    const body = JSON.stringify({ idempotencyKey: entry.id, sealedJson, signature: signBytes(enrolment.deviceKey, Buffer.from(sealedJson)) });
    let response: Response;
    try {
      response = await fetch(new URL('/reports', enrolment.registryUrl), {
        method: 'POST',
        headers: { authorization: `Bearer ${enrolment.token}`, 'content-type': 'application/json' },
        body,
        signal: options.signal
          ? AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs ?? 30_000)])
          : AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
    } catch (e) {
      retry(entry, `cannot reach the registry: ${(e as Error).message}`, 'OFFLINE');
      continue;
    }
    const json = (await response.json().catch(() => null)) as unknown;
    const accepted = acceptedSchema.safeParse(json);
    if (response.ok && accepted.success) {
      outbox.acknowledge(entry.id);
      delivered++;
      if (accepted.data.duplicate) duplicates++;
      continue;
    }
    const message = (json as { error?: { message?: string } } | null)?.error?.message ?? `HTTP ${response.status}`;
    retry(
      entry,
      `the registry answered ${response.status}: ${message}`,
      codeOfStatus(response.status),
      response.status === 429 ? retryAfterMs(response) : null,
    );
    if (response.status === 401 || response.status === 403 || response.status === 429) break;
  }
  return { delivered, duplicates, failed, remaining: outbox.size(), lastError, lastErrorCode };
}
