import { afterAll, expect, test } from 'vitest';
import { join } from 'node:path';
import { SeededRandom } from '../core/common/seeded-random.js';
import { enrolDevice } from '../core/sync/device-enrolment.js';
import { pullModels, SyncRefusal } from '../core/sync/model-puller.js';
import { pushReports } from '../core/sync/report-pusher.js';
import { SqliteOutbox } from '../core/sync/sqlite-outbox.js';
import type { DeviceEnrolment } from '../core/sync/sync-schemas.js';
import { buildRegistry, listen, type Registry } from '../registry/build-registry.js';
import { RegistryClient } from '../registry/registry-client.js';
import { credentialIssuedSchema } from '../registry/registry-schemas.js';
import { generateEd25519Key } from '../core/sync/signing-keys.js';
import { startFaultProxy, type Fault } from './helpers/fault-proxy.js';
import { importVariant } from './helpers/registry-fixture.js';
import { tempDir, tempServices } from './helpers/temp-workspace.js';

// Sync under a hostile network: a seeded proxy drops, truncates, corrupts, delays, duplicates and fails requests,
// and the registry is killed mid-sync and restarted on the same data. Afterwards every published model must be on
// every device of its region, intact; nothing foreign or damaged imported; every report stored exactly once.

const CYCLES = Number(process.env.APPRAISE_SOAK_CYCLES ?? 500);
const FAULTS: Fault[] = ['drop', 'truncate', 'corrupt', 'delay', 'error500', 'duplicate'];
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

test(`${CYCLES} sync cycles, 3 devices, faults and a registry restart: everything arrives once and intact`, { timeout: 600_000 }, async () => {
  const rng = new SeededRandom(12);
  const { dir, cleanup } = tempDir('appraise-soak-');
  cleanups.push(cleanup);
  const dataDir = join(dir, 'registry');
  let registry: Registry = await buildRegistry({ dataDir, rateLimitPerMinute: 1_000_000 });
  let url = await listen(registry);
  const port = Number(new URL(url).port);
  cleanups.push(() => registry.close());
  let faultRate = 0.3;
  const proxy = await startFaultProxy({ target: () => url, decide: () => (rng.next() < faultRate ? FAULTS[Math.floor(rng.next() * FAULTS.length)] : 'none') });
  cleanups.push(() => proxy.close());

  const admin = new RegistryClient(url, (await registry.bootstrapAdmin('soak')).token);
  const publisherToken = (await admin.call('POST', '/admin/credentials', { role: 'publisher', name: 'p' }, credentialIssuedSchema)).token;
  const publisher = new RegistryClient(url, publisherToken);
  const rootKeys = [generateEd25519Key(), generateEd25519Key()];
  const publisherKey = generateEd25519Key();
  for (const region of ['north', 'south']) await admin.createRepository(region, 'stable', { root: rootKeys, threshold: 2, publishers: [publisherKey] });

  const pub = tempServices();
  cleanups.push(() => pub.cleanup());
  const variants = [1, 2, 3].map((v) => importVariant(pub.models, pub.dir, v));
  const expected: Record<string, string[]> = { north: [variants[0].id, variants[2].id], south: [variants[1].id] };

  interface Device {
    s: ReturnType<typeof tempServices>;
    enrolment: DeviceEnrolment;
    outbox: SqliteOutbox;
    region: string;
    champion: string;
    enqueued: string[];
  }
  const devices: Device[] = [];
  for (const region of ['north', 'north', 'south']) {
    const s = tempServices();
    cleanups.push(() => s.cleanup());
    const champion = importVariant(s.models, s.dir, 0).id;
    s.models.promote(champion);
    const { code } = await admin.createEnrolmentCode(region, 'stable');
    const enrolment = await enrolDevice(s.workspace.dir, url, code, `soak ${devices.length}`);
    devices.push({ s, enrolment: { ...enrolment, registryUrl: proxy.url }, outbox: new SqliteOutbox(s.workspace.db), region, champion, enqueued: [] });
  }

  await publisher.publishModel('north', 'stable', pub.models.load(variants[0].id), publisherKey);
  await publisher.publishModel('south', 'stable', pub.models.load(variants[1].id), publisherKey);

  const outcomes: Record<string, number> = {};
  const count = (k: string) => (outcomes[k] = (outcomes[k] ?? 0) + 1);
  const clock = Date.now();
  const killAt = Math.floor(CYCLES / 3);
  let down = false;

  const cycle = async (i: number) => {
    const now = new Date(clock + i * 2 * 3_600_000); // every queued report is due again each cycle
    await Promise.all(
      devices.map(async (d) => {
        if (rng.next() < 0.3) d.enqueued.push(d.outbox.enqueue('monitoring-report', { device: d.enrolment.deviceId, cycle: i }, now));
        try {
          const r = await pullModels(d.s.workspace.dir, d.enrolment, d.s.models);
          count(r.refused.length > 0 ? `pull-refused:${r.refused.map((x) => x.reason).join(',')}` : 'pull-ok');
        } catch (e) {
          // Only refusals are acceptable; anything else is a bug and fails the test.
          if (!(e instanceof SyncRefusal)) throw e;
          count(`pull:${e.reason}`);
        }
        const p = await pushReports(d.enrolment, d.outbox, { now, random: () => rng.next(), timeoutMs: 5_000 });
        count(p.failed > 0 ? 'push-partial' : 'push-ok');
      }),
    );
  };

  for (let i = 0; i < CYCLES; i++) {
    if (i === killAt) {
      // Kill the registry while the devices are mid-sync: connections cut, database closed under them.
      const inFlight = cycle(i);
      await new Promise((r) => setTimeout(r, 5));
      registry.app.server.closeAllConnections();
      await registry.close();
      down = true;
      await inFlight;
      continue;
    }
    if (down && i === killAt + 3) {
      registry = await buildRegistry({ dataDir, rateLimitPerMinute: 1_000_000 });
      url = await listen(registry, { port });
      down = false;
    }
    if (i === Math.floor((2 * CYCLES) / 3))
      await new RegistryClient(url, publisherToken).publishModel('north', 'stable', pub.models.load(variants[2].id), publisherKey);
    await cycle(i);
  }

  // A calm network to finish: whatever is still queued or missing must now arrive.
  faultRate = 0;
  for (let i = 0; i < 3; i++) await cycle(CYCLES + i);

  for (const d of devices) {
    const ids = d.s.models.list().map((m) => m.id);
    expect(ids.sort()).toEqual([d.champion, ...expected[d.region]].sort());
    expect(d.s.models.list().find((m) => m.status === 'champion')?.id).toBe(d.champion);
    for (const id of expected[d.region]) expect(d.s.models.load(id).onnx.equals(pub.models.load(id).onnx)).toBe(true);
    expect(d.outbox.size()).toBe(0);
  }
  const stored = await registry.store.listReports();
  const keys = stored.map((r) => `${r.deviceId}/${r.idempotencyKey}`);
  expect(new Set(keys).size).toBe(keys.length);
  expect(keys.sort()).toEqual(devices.flatMap((d) => d.enqueued.map((k) => `${d.enrolment.deviceId}/${k}`)).sort());
  // The run really was hostile.
  for (const f of FAULTS) expect(proxy.applied[f]).toBeGreaterThan(0);
  expect(Object.keys(outcomes).some((k) => k.startsWith('pull:offline'))).toBe(true);
  console.log(JSON.stringify({ cycles: CYCLES, reports: stored.length, faults: proxy.applied, outcomes }));
});
