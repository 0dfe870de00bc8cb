import { afterAll, beforeAll, expect, test } from 'vitest';
import { enrolDevice } from '../core/sync/device-enrolment.js';
import { pushReports } from '../core/sync/report-pusher.js';
import { SqliteOutbox } from '../core/sync/sqlite-outbox.js';
import { SyncService } from '../core/sync/sync-service.js';
import { importVariant, startRegistry, type TestRegistry } from './helpers/registry-fixture.js';
import { tempServices } from './helpers/temp-workspace.js';
import { createAppHost } from '../core/app/app-host.js';
import { listenWebHost, TOKEN_HEADER } from '../core/api/web-host.js';

// The registry's rate limit (per credential) answers 429 RATE_LIMITED, not FORBIDDEN: the device keeps its
// credential, backs off and keeps its reports. A real registry on 127.0.0.1 with a tiny limit.

// The admin's set-up (a credential, a repository and its root, three codes) uses all 6; each device has its own 6.
const LIMIT = 6;
let reg: TestRegistry;
const opened: ReturnType<typeof tempServices>[] = [];
const codes: string[] = [];

beforeAll(async () => {
  reg = await startRegistry({ rateLimitPerMinute: LIMIT });
  await reg.createRepository('north');
  for (let i = 0; i < 3; i++) codes.push((await reg.admin.createEnrolmentCode('north', 'stable')).code);
});
afterAll(async () => {
  for (const s of opened) await s.cleanup();
  await reg?.close();
});

async function enrolled() {
  const s = tempServices();
  opened.push(s);
  return { s, enrolment: await enrolDevice(s.workspace.dir, reg.url, codes.shift()!, 'busy laptop') };
}

test('a push over the limit stops at the first 429, keeps every report, and waits at least the Retry-After delay', async () => {
  const { s, enrolment } = await enrolled();
  const outbox = new SqliteOutbox(s.workspace.db);
  for (let i = 0; i < LIMIT + 3; i++) outbox.enqueue('monitoring-report', { i }, new Date(), `report:m:${i}`);
  const now = new Date();
  // The jitter source 0 gives the shortest backoff (2.5 s): the registry's Retry-After must win over it.
  const result = await pushReports(enrolment, outbox, { now, random: () => 0 });
  expect(result).toMatchObject({ delivered: LIMIT, failed: 1, remaining: 3, lastErrorCode: 'RATE_LIMITED' });
  expect(result.lastError).toMatch(/429: too many requests/);
  const waiting = outbox.list();
  // Only the refused report was tried; the two after it were not sent into the limit.
  expect(waiting.map((e) => e.attempts)).toEqual([1, 0, 0]);
  expect(Date.parse(waiting[0].nextAttemptAt) - now.getTime()).toBeGreaterThan(5_000);
});

test('a sync cycle over the limit fails as RATE_LIMITED in words and backs off beyond the interval', async () => {
  const { s } = await enrolled();
  s.models.promote(importVariant(s.models, s.dir, 0).id);
  const sync = new SyncService({
    workspaceDir: s.workspace.dir,
    outbox: new SqliteOutbox(s.workspace.db),
    models: s.models,
    monitoring: s.monitoring,
    intervalMs: 60_000,
    firstDelayMs: 3_600_000,
    random: () => 0,
  });
  try {
    expect(sync.startIfEnrolled()).toBe(true);
    // Nothing is published: a cycle asks for the next root and the timestamp (404), the first also sends its report.
    expect(await sync.now()).toMatchObject({ ok: true, pushed: 1 });
    let error: unknown = null;
    for (let i = 0; i < LIMIT && error === null; i++)
      error = await sync.now().then(
        () => null,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ code: 'RATE_LIMITED', message: /asked this computer to slow down/ });
    const status = sync.status();
    expect(status.lastCycle).toMatchObject({ ok: false, errorCode: 'RATE_LIMITED' });
    // First failure after a success: between one and two intervals (jitter 0: exactly one), never sooner.
    expect(Date.parse(status.nextCycleAt!) - Date.parse(status.lastCycle!.finishedAt)).toBeGreaterThanOrEqual(60_000 - 50);
    // The credential still works: a 429 is not a revocation.
    expect(status.enrolled).toBe(true);
  } finally {
    await sync.close();
  }
});

test('over the web host, a rate-limited sync.now answers HTTP 429 with RATE_LIMITED', async () => {
  const { s } = await enrolled();
  const host = await createAppHost({ services: s, validateOutput: true, processName: 'none', jobsInWorkers: false, sync: { background: false } });
  const web = await listenWebHost({ dispatcher: host.dispatcher, staticDir: null });
  try {
    const statuses: number[] = [];
    let body: { ok: boolean; error?: { code: string; message: string } } = { ok: true };
    for (let i = 0; i <= LIMIT && body.ok; i++) {
      const res = await fetch(`${web.origin}/api/sync.now`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [TOKEN_HEADER]: web.token },
        body: '{}',
      });
      statuses.push(res.status);
      body = (await res.json()) as typeof body;
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((st) => st === 200)).toBe(true);
    expect(body.error).toMatchObject({ code: 'RATE_LIMITED', message: /slow down/ });
  } finally {
    await web.close();
    await host.close();
  }
});
