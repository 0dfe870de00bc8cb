import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pg from 'pg';
import { enrolDevice } from '../core/sync/device-enrolment.js';
import { pullModels } from '../core/sync/model-puller.js';
import { pushReports } from '../core/sync/report-pusher.js';
import { SqliteOutbox } from '../core/sync/sqlite-outbox.js';
import { generateEd25519Key } from '../core/sync/signing-keys.js';
import { buildRegistry, listen, type Registry } from '../registry/build-registry.js';
import { PgRegistryStore } from '../registry/pg-registry-store.js';
import { RegistryClient } from '../registry/registry-client.js';
import { credentialIssuedSchema } from '../registry/registry-schemas.js';
import { startFaultProxy, type FaultProxy } from './helpers/fault-proxy.js';
import { importVariant } from './helpers/registry-fixture.js';
import { postgresAvailable, startPostgres } from './helpers/temp-postgres.js';
import { tempServices } from './helpers/temp-workspace.js';

// Two stateless registry instances on one PostgreSQL database behind a round-robin balancer, serving the same
// devices: models published through one arrive through both, reports pushed through both are stored once.

// CI installs PostgreSQL (.ci/run), so there a missing server fails instead of skipping.
describe.skipIf(!postgresAvailable && !process.env.CI)('registry on PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof startPostgres>>;
  const instances: { registry: Registry; url: string }[] = [];
  let balancer: FaultProxy;
  const workspaces: ReturnType<typeof tempServices>[] = [];

  beforeAll(async () => {
    db = await startPostgres();
    for (let i = 0; i < 2; i++) {
      const registry = await buildRegistry({ store: await PgRegistryStore.open(db.url) });
      instances.push({ registry, url: await listen(registry) });
    }
    let next = 0;
    let duplicate = false;
    // Round robin; every other report upload is sent twice (once to each instance), as a retrying balancer would.
    balancer = await startFaultProxy({
      target: () => instances[next++ % 2].url,
      decide: (req) => (req.path === '/reports' && (duplicate = !duplicate) ? 'duplicate' : 'none'),
    });
  });

  afterAll(async () => {
    await balancer?.close();
    for (const w of workspaces) await w.cleanup();
    for (const i of instances) await i.registry.close();
    db?.stop();
  });

  test('enrol, publish, pull and push through two instances on one database', async () => {
    const [a, b] = instances;
    const admin = new RegistryClient(a.url, (await a.registry.bootstrapAdmin('pg admin')).token);
    const publisherToken = (await admin.call('POST', '/admin/credentials', { role: 'publisher', name: 'p' }, credentialIssuedSchema)).token;
    const publisherA = new RegistryClient(a.url, publisherToken);
    const publisherB = new RegistryClient(b.url, publisherToken);
    const rootKeys = [generateEd25519Key(), generateEd25519Key()];
    const publisherKey = generateEd25519Key();
    await admin.createRepository('north', 'stable', { root: rootKeys, threshold: 2, publishers: [publisherKey] });

    const pub = tempServices();
    workspaces.push(pub);
    const [m1, m2, m3] = [1, 2, 3].map((v) => importVariant(pub.models, pub.dir, v));

    // Both instances publish at the same moment: one wins the version, the other is told to sign again.
    const race = await Promise.allSettled([
      publisherA.publishModel('north', 'stable', pub.models.load(m1.id), publisherKey),
      publisherB.publishModel('north', 'stable', pub.models.load(m2.id), publisherKey),
    ]);
    const lost = race.filter((r) => r.status === 'rejected');
    for (const l of lost) expect((l as PromiseRejectedResult).reason).toMatchObject({ code: 'CONFLICT' });
    if (lost.length > 0) await publisherB.publishModel('north', 'stable', pub.models.load(race[0].status === 'rejected' ? m1.id : m2.id), publisherKey);
    await publisherB.publishModel('north', 'stable', pub.models.load(m3.id), publisherKey);

    const devices = [];
    for (let i = 0; i < 2; i++) {
      const s = tempServices();
      workspaces.push(s);
      const { code } = await admin.createEnrolmentCode('north', 'stable');
      const e = await enrolDevice(s.workspace.dir, instances[i].url, code, `pg device ${i}`);
      devices.push({ s, e: { ...e, registryUrl: balancer.url }, outbox: new SqliteOutbox(s.workspace.db) });
    }
    const keys: string[] = [];
    for (const d of devices) {
      const result = await pullModels(d.s.workspace.dir, d.e, d.s.models);
      expect(result.refused).toEqual([]);
      expect(result.imported.map((m) => m.id).sort()).toEqual([m1.id, m2.id, m3.id].sort());
      for (let r = 0; r < 4; r++) keys.push(`${d.e.deviceId}/${d.outbox.enqueue('monitoring-report', { r })}`);
      expect(await pushReports(d.e, d.outbox)).toMatchObject({ delivered: 4, remaining: 0 });
    }
    expect(balancer.applied.duplicate).toBeGreaterThanOrEqual(4);
    const stored = await b.registry.store.listReports();
    expect(stored.map((r) => `${r.deviceId}/${r.idempotencyKey}`).sort()).toEqual(keys.sort());

    // The audit log is append-only on PostgreSQL too.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await expect(client.query('DELETE FROM audit')).rejects.toThrow(/append-only/);
      expect(Number((await client.query('SELECT COUNT(*) AS n FROM audit')).rows[0].n)).toBeGreaterThan(10);
    } finally {
      await client.end();
    }
  });
});
