import { afterAll, beforeAll, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createAppHost, type AppHost } from '../core/app/app-host.js';
import type { ApiResponse } from '../core/contract/api-response.js';
import { syncDir } from '../core/sync/device-enrolment.js';
import type { SyncCycle, SyncStatus } from '../core/sync/sync-schemas.js';
import { importVariant, startRegistry, type TestRegistry } from './helpers/registry-fixture.js';
import { tempServices } from './helpers/temp-workspace.js';

// Enrolment from the window: a real registry on 127.0.0.1, real app hosts, every call through the dispatcher as the
// Sync page makes it. Each mistake a person can make (the address, the network, the code) comes back as its own
// typed error in words and leaves the workspace as it was; the right code enrols it and starts the background sync.

type Services = ReturnType<typeof tempServices>;
let reg: TestRegistry;
let publisher: Services;
let notARegistry: Server;
let notARegistryUrl = '';
let deadUrl = '';
const cleanups: (() => Promise<void>)[] = [];

async function host(role?: 'appraiser') {
  const services = tempServices();
  const h = await createAppHost({
    services,
    validateOutput: true,
    processName: 'none',
    jobsInWorkers: false,
    role,
    // A background cycle that would start a minute after enrolment: the test sees it scheduled, never running.
    sync: { background: true, firstDelayMs: 60_000 },
  });
  cleanups.push(async () => {
    await h.close();
    await services.cleanup();
  });
  return { h, services };
}

const enrol = (h: AppHost, url: string, code: string, name = 'field laptop'): Promise<ApiResponse> => h.dispatcher.callSafe('sync.enrol', { url, code, name });
const enrolled = (s: Services) => existsSync(join(syncDir(s.workspace.dir), 'device.json'));

beforeAll(async () => {
  reg = await startRegistry();
  await reg.createRepository('coast');
  publisher = tempServices();
  const model = importVariant(publisher.models, publisher.dir, 1);
  await reg.publisher.publishModel('coast', 'stable', publisher.models.load(model.id), reg.publisherKey);
  // A web server that is not a registry (a typo'd address landing on some other site).
  notARegistry = createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>'));
  await new Promise<void>((r) => notARegistry.listen(0, '127.0.0.1', r));
  notARegistryUrl = `http://127.0.0.1:${(notARegistry.address() as AddressInfo).port}`;
  // A port nothing listens on any more: the registry is down, or the address points nowhere.
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise((r) => closed.close(r));
});

afterAll(async () => {
  for (const c of cleanups) await c();
  notARegistry?.close();
  await publisher?.cleanup();
  await reg?.close();
});

test('each mistake is its own typed error saying what to fix, and the workspace stays unenrolled', async () => {
  const { h, services } = await host();
  const { code } = await reg.admin.createEnrolmentCode('coast', 'stable');
  const cases: [string, string, string, RegExp][] = [
    ['a bad address', 'registry.example', code, /"registry\.example" is not a registry address; it looks like https:\/\//],
    ['another scheme', 'ftp://registry.example.org', code, /must start with https:\/\//],
    ['a site that is not a registry', notARegistryUrl, code, /answered HTTP 404, but not as an Appraise registry; check the address/],
    ['no enrolment code at all', reg.url, 'my-password', /not an enrolment code: codes start with enr_/],
  ];
  for (const [what, url, c, words] of cases) {
    expect(await enrol(h, url, c), what).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', message: expect.stringMatching(words) } });
  }
  expect(await enrol(h, deadUrl, code)).toMatchObject({
    ok: false,
    error: {
      code: 'OFFLINE',
      message: expect.stringMatching(/cannot reach the registry at .*nothing answers at that address \(connection refused\).*Nothing was changed/),
    },
  });
  expect(await enrol(h, reg.url, 'enr_this-code-was-never-issued')).toMatchObject({
    ok: false,
    error: { code: 'UNAUTHORIZED', message: expect.stringMatching(/unknown, already used or expired; ask an admin for a new one/) },
  });
  expect(await h.dispatcher.callSafe('sync.enrol', { url: reg.url, code, name: '  ' })).toMatchObject({
    ok: false,
    error: { code: 'INVALID_INPUT', message: expect.stringMatching(/name this computer/) },
  });
  expect(enrolled(services)).toBe(false);
  expect(await h.dispatcher.callSafe('sync.status', {})).toMatchObject({ ok: true, result: { enrolled: false, nextCycleAt: null } });
  // Every attempt is in the audit trail as failed, without the code (a secret).
  const failed = services.audit.all().filter((e) => e.action === 'sync.enrol');
  expect(failed).toHaveLength(6);
  expect(failed.every((e) => e.outcome === 'failed')).toBe(true);
  expect(JSON.stringify(failed)).not.toContain(code);

  // The code was not used up by the failed attempts: it still enrols this workspace.
  const ok = await enrol(h, ` ${reg.url}/ `, code);
  expect(ok).toMatchObject({ ok: true, result: { enrolled: true, region: 'coast', channel: 'stable', registryUrl: reg.url } });
  const status = (ok as { result: SyncStatus }).result;
  // The host runs a background sync, so enrolling starts it (the first cycle a minute from now).
  expect(status.nextCycleAt).not.toBeNull();
  const done = services.audit.all().filter((e) => e.action === 'sync.enrol' && e.outcome === 'ok');
  expect(done).toEqual([expect.objectContaining({ ids: expect.objectContaining({ device: status.deviceId, region: 'coast', name: 'field laptop' }) })]);
  // Enrolled: Sync now pulls the published model.
  const cycle = await h.dispatcher.callSafe('sync.now', {});
  expect(cycle).toMatchObject({ ok: true, result: { ok: true, pulled: 1 } });
  expect((cycle as { result: SyncCycle }).result.pulledModels).toHaveLength(1);
  // A second enrolment would drop the trusted state: refused.
  expect(await enrol(h, reg.url, (await reg.admin.createEnrolmentCode('coast', 'stable')).code)).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
});

test('a used code is refused on another workspace, and an appraiser session cannot enrol', async () => {
  const { code } = await reg.admin.createEnrolmentCode('coast', 'stable');
  const first = await host();
  expect(await enrol(first.h, reg.url, code)).toMatchObject({ ok: true });
  const second = await host();
  expect(await enrol(second.h, reg.url, code)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED', message: expect.stringMatching(/already used/) } });
  expect(enrolled(second.services)).toBe(false);

  const appraiser = await host('appraiser');
  const fresh = (await reg.admin.createEnrolmentCode('coast', 'stable')).code;
  expect(await enrol(appraiser.h, reg.url, fresh)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  expect(enrolled(appraiser.services)).toBe(false);
});
