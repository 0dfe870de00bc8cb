import { afterAll, beforeAll, expect, test } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { enrolDevice } from '../core/sync/device-enrolment.js';
import { backoffDelay, pushReports } from '../core/sync/report-pusher.js';
import { SqliteOutbox } from '../core/sync/sqlite-outbox.js';
import { SeededRandom } from '../core/common/seeded-random.js';
import type { DeviceEnrolment } from '../core/sync/sync-schemas.js';
import { reportDetailSchema, reportListSchema } from '../registry/registry-schemas.js';
import { tempServices } from './helpers/temp-workspace.js';
import { startRegistry, type TestRegistry } from './helpers/registry-fixture.js';

let reg: TestRegistry;
let ws: ReturnType<typeof tempServices>;
let enrolment: DeviceEnrolment;
let proxy: Server;
let proxyUrl: string;
/** How many of the next answers the proxy swallows after the registry has handled the request. */
let dropAnswers = 0;

beforeAll(async () => {
  reg = await startRegistry();
  await reg.createRepository('north');
  ws = tempServices();
  const { code } = await reg.admin.createEnrolmentCode('north', 'stable');
  enrolment = await enrolDevice(ws.workspace.dir, reg.url, code, 'outbox laptop');
  // A proxy that forwards every request to the registry but, when told to, cuts the connection instead of
  // answering: the registry stored the report, the device never heard so.
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void fetch(new URL(req.url ?? '/', reg.url), {
        method: req.method,
        headers: { authorization: req.headers.authorization ?? '', 'content-type': 'application/json' },
        body: Buffer.concat(chunks),
      }).then(async (r) => {
        const body = Buffer.from(await r.arrayBuffer());
        if (dropAnswers > 0) {
          dropAnswers--;
          res.socket?.destroy();
          return;
        }
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(body);
      });
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => proxy?.close(r));
  await ws?.cleanup();
  await reg?.close();
});

test('backoff doubles per attempt, is capped, and keeps at least half its delay under jitter', () => {
  expect(backoffDelay(0, () => 0)).toBe(2_500);
  expect(backoffDelay(0, () => 0.999_999)).toBeCloseTo(5_000, 0);
  expect(backoffDelay(3, () => 0)).toBe(20_000);
  expect(backoffDelay(40, () => 0.999_999)).toBeCloseTo(3_600_000, -1);
});

test('reports leave the outbox only when acknowledged, survive an unreachable registry and a lost answer, and are stored exactly once', async () => {
  const outbox = new SqliteOutbox(ws.workspace.db);
  const ids = [1, 2, 3].map((n) => outbox.enqueue('monitoring-report', { week: n, drift: n / 10 }));
  const rng = new SeededRandom(7);
  const random = () => rng.next();

  // 1. Nobody listening on the port: everything stays, each with a retry time in the future.
  const t0 = new Date();
  const offline = await pushReports({ ...enrolment, registryUrl: 'http://127.0.0.1:1' }, outbox, { now: t0, random });
  expect(offline).toMatchObject({ delivered: 0, failed: 3, remaining: 3 });
  expect(outbox.due(t0)).toEqual([]);
  expect(outbox.list().every((e) => e.attempts === 1 && Date.parse(e.nextAttemptAt) >= t0.getTime() + 2_500)).toBe(true);

  // 2. Later, through a proxy that loses the registry's first answer: that report is stored but stays queued.
  const t1 = new Date(t0.getTime() + 10_000);
  dropAnswers = 1;
  const lossy = await pushReports({ ...enrolment, registryUrl: proxyUrl }, outbox, { now: t1, random });
  expect(lossy).toMatchObject({ delivered: 2, failed: 1, remaining: 1 });
  expect(outbox.list().map((e) => e.id)).toEqual([ids[0]]);

  // 3. The retry: the registry recognises the idempotency key and answers "already have it".
  const t2 = new Date(t1.getTime() + 3_600_000);
  expect(await pushReports({ ...enrolment, registryUrl: proxyUrl }, outbox, { now: t2, random })).toMatchObject({ delivered: 1, duplicates: 1, remaining: 0 });

  const admin = reg.admin;
  const listed = await admin.call('GET', '/admin/reports', undefined, reportListSchema);
  expect(listed.reports.map((r) => r.idempotencyKey).sort()).toEqual([...ids].sort());
  // The admin reads the report decrypted, as the device wrote it.
  const first = listed.reports.find((r) => r.idempotencyKey === ids[0])!;
  const detail = await admin.call('GET', `/admin/reports/${first.id}`, undefined, reportDetailSchema);
  expect(detail.report).toMatchObject({ kind: 'monitoring-report', payload: { week: 1, drift: 0.1 } });
  expect(detail.deviceId).toBe(enrolment.deviceId);
});

test('a report signed by another key is refused and stays in the outbox; a revoked device keeps its queue', async () => {
  const outbox = new SqliteOutbox(ws.workspace.db);
  outbox.enqueue('monitoring-report', { week: 9 });
  const { generateEd25519Key } = await import('../core/sync/signing-keys.js');
  const forged = await pushReports({ ...enrolment, deviceKey: generateEd25519Key() }, outbox);
  expect(forged).toMatchObject({ delivered: 0, failed: 1, remaining: 1 });
  expect(forged.lastError).toMatch(/403: the report's signature is not this device's/);

  await reg.admin.revokeDevice(enrolment.deviceId);
  const revoked = await pushReports(enrolment, outbox, { now: new Date(Date.now() + 86_400_000) });
  expect(revoked).toMatchObject({ delivered: 0, remaining: 1 });
  expect(revoked.lastError).toMatch(/401/);
  expect((await reg.registry.store.listReports()).length).toBe(3);
});
