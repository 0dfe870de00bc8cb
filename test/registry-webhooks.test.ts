import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import pg from 'pg';
import { enrolDevice } from '../core/sync/device-enrolment.js';
import { pushReports } from '../core/sync/report-pusher.js';
import { generateEd25519Key } from '../core/sync/signing-keys.js';
import { SqliteOutbox } from '../core/sync/sqlite-outbox.js';
import { buildRegistry, listen, type Registry } from '../registry/build-registry.js';
import { PgRegistryStore } from '../registry/pg-registry-store.js';
import { RegistryClient } from '../registry/registry-client.js';
import { credentialIssuedSchema } from '../registry/registry-schemas.js';
import type { RegistryStore } from '../registry/registry-store.js';
import { verifyWebhookSignature } from '../registry/webhooks.js';
import { importVariant } from './helpers/registry-fixture.js';
import { postgresAvailable, startPostgres } from './helpers/temp-postgres.js';
import { tempDir, tempServices } from './helpers/temp-workspace.js';

// Signed webhooks against real receivers on 127.0.0.1: two registry instances on one database (SQLite file or
// PostgreSQL) share one persistent delivery queue; every notice arrives once, signed, and a receiver that fails
// is retried with backoff until it recovers, or given up on (audited) after the configured attempts.

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver: answers with `status(n)` for its n-th request (1-based) and records everything it was sent. */
async function receiver(status: (n: number) => number = () => 200) {
  const got: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = status(got.length);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/hook`, got, close: () => new Promise((r) => server.close(r)) };
}

/** The receiver's own check, written from the documented scheme, not with the registry's code. */
function signedBy(secret: string, r: Received): boolean {
  const ts = String(r.headers['x-appraise-timestamp']);
  const expected = `sha256=${createHmac('sha256', secret).update(`${ts}.${r.body}`).digest('hex')}`;
  return r.headers['x-appraise-signature'] === expected && Math.abs(Date.now() / 1000 - Number(ts)) < 300;
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const fast = { pollMs: 40, backoffBaseMs: 60, backoffMaxMs: 300, maxAttempts: 5, timeoutMs: 3000 };

type Backend = {
  name: string;
  available: boolean;
  open: () => Promise<{ stores: () => Promise<RegistryStore>; readRaw: () => Promise<string>; stop: () => void }>;
};

const backends: Backend[] = [
  {
    name: 'SQLite',
    available: true,
    open: async () => {
      const { dir, cleanup } = tempDir('appraise-webhooks-');
      const { SqliteRegistryStore } = await import('../registry/sqlite-registry-store.js');
      return {
        // Two stores on one database file: two registry processes on one box.
        stores: async () => new SqliteRegistryStore(join(dir, 'data')),
        readRaw: async () =>
          readFileSync(join(dir, 'data', 'registry.db')).toString('latin1') + readFileSync(join(dir, 'data', 'registry.db-wal')).toString('latin1'),
        stop: cleanup,
      };
    },
  },
  {
    name: 'PostgreSQL',
    // CI installs PostgreSQL (.ci/run), so there a missing server fails instead of skipping.
    available: postgresAvailable || !!process.env.CI,
    open: async () => {
      const db = await startPostgres();
      return {
        stores: () => PgRegistryStore.open(db.url),
        readRaw: async () => {
          const c = new pg.Client({ connectionString: db.url });
          await c.connect();
          try {
            return JSON.stringify((await c.query('SELECT * FROM webhooks')).rows);
          } finally {
            await c.end();
          }
        },
        stop: db.stop,
      };
    },
  },
];

describe.each(backends)('signed webhooks on $name', (backend) => {
  if (!backend.available) {
    test.skip('PostgreSQL server binaries are not installed (apt postgresql)', () => undefined);
    return;
  }
  let env: Awaited<ReturnType<Backend['open']>>;
  const instances: { registry: Registry; url: string }[] = [];
  const workspaces: ReturnType<typeof tempServices>[] = [];
  let admin: RegistryClient;
  let publisher: RegistryClient;
  const publisherKey = generateEd25519Key();

  beforeAll(async () => {
    env = await backend.open();
    for (let i = 0; i < 2; i++) {
      const registry = await buildRegistry({ store: await env.stores(), webhooks: fast });
      instances.push({ registry, url: await listen(registry) });
    }
    admin = new RegistryClient(instances[0].url, (await instances[0].registry.bootstrapAdmin('hooks admin')).token);
    const token = (await admin.call('POST', '/admin/credentials', { role: 'publisher', name: 'p' }, credentialIssuedSchema)).token;
    publisher = new RegistryClient(instances[1].url, token);
    await admin.createRepository('north', 'stable', { root: [generateEd25519Key(), generateEd25519Key()], threshold: 2, publishers: [publisherKey] });
  });

  afterAll(async () => {
    for (const i of instances) await i.registry.close();
    for (const w of workspaces) await w.cleanup();
    env?.stop();
  });

  test('admins only; bad URLs and events refused in words', async () => {
    await expect(publisher.addWebhook('http://127.0.0.1:1/x', ['model.published'])).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(admin.addWebhook('ftp://example.org/x', ['model.published'])).rejects.toMatchObject({ code: 'INVALID_INPUT', message: /http/ });
    await expect(
      admin.call('POST', '/admin/webhooks', { url: 'http://127.0.0.1:1/x', events: ['model.deleted'] }, credentialIssuedSchema),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(admin.webhookDeliveries('webhook_nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(admin.disableWebhook('webhook_nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  test('publish and reports reach every receiver once, signed; a failing receiver is retried until it recovers', async () => {
    const good = await receiver();
    const flaky = await receiver((n) => (n <= 3 ? 503 : 200));
    const reportsOnly = await receiver();
    try {
      const all = await admin.addWebhook(good.url, ['model.published', 'report.received'], 'warehouse');
      const retry = await admin.addWebhook(flaky.url, ['model.published']);
      const rep = await admin.addWebhook(reportsOnly.url, ['report.received']);
      expect(all.secret).toMatch(/^whsec_/);
      expect(new Set([all.secret, retry.secret, rep.secret]).size).toBe(3);

      // The secret is shown once: never listed, never stored as itself.
      const listed = JSON.stringify(await admin.listWebhooks());
      expect(listed).toContain(all.id);
      expect(listed).not.toContain(all.secret);
      expect(await env.readRaw()).not.toContain(all.secret.slice(6));

      const pub = tempServices();
      workspaces.push(pub);
      const model = importVariant(pub.models, pub.dir, 41);
      await publisher.publishModel('north', 'stable', pub.models.load(model.id), publisherKey);

      const dev = tempServices();
      workspaces.push(dev);
      const { code } = await admin.createEnrolmentCode('north', 'stable');
      const e = await enrolDevice(dev.workspace.dir, instances[1].url, code, 'hook device');
      const outbox = new SqliteOutbox(dev.workspace.db);
      for (let i = 0; i < 12; i++) outbox.enqueue('monitoring-report', { i });
      expect(await pushReports(e, outbox)).toMatchObject({ delivered: 12, remaining: 0 });
      const stored = await instances[0].registry.store.listReports();
      expect(stored).toHaveLength(12);

      await until(() => good.got.length >= 13 && reportsOnly.got.length >= 12 && flaky.got.length >= 4, 'all deliveries');
      await new Promise((r) => setTimeout(r, 400)); // long enough for any duplicate from the other instance to land

      for (const [hook, got] of [
        [all, good.got],
        [retry, flaky.got],
        [rep, reportsOnly.got],
      ] as const) {
        for (const r of got) expect(signedBy(hook.secret, r), `signature of ${r.body}`).toBe(true);
      }
      // Exactly once per delivery on the good receivers, though two instances poll the same queue.
      const ids = good.got.map((r) => String(r.headers['x-appraise-delivery']));
      expect(new Set(ids).size).toBe(ids.length);
      expect(good.got).toHaveLength(13);
      expect(reportsOnly.got).toHaveLength(12);
      const bodies = good.got.map((r) => JSON.parse(r.body) as { id: string; event: string; data: Record<string, unknown> });
      const published = bodies.filter((b) => b.event === 'model.published');
      expect(published).toHaveLength(1);
      expect(published[0].data).toMatchObject({ region: 'north', channel: 'stable', targetsVersion: 1 });
      expect(JSON.stringify(published[0].data)).toContain(model.id);
      expect(
        bodies
          .filter((b) => b.event === 'report.received')
          .map((b) => b.data.reportId)
          .sort(),
      ).toEqual(stored.map((s) => s.id).sort());
      for (const b of bodies) expect(b.id).toBe(good.got[bodies.indexOf(b)].headers['x-appraise-delivery']);

      // The flaky receiver: three 503s, then one success; all four requests the same delivery with the same body.
      expect(flaky.got).toHaveLength(4);
      expect(new Set(flaky.got.map((r) => r.body)).size).toBe(1);
      const [log] = await admin.webhookDeliveries(retry.id);
      expect(log).toMatchObject({ status: 'delivered', attempts: 4, lastStatus: 200, lastError: null });
      // Backoff: the retries were spread out, not fired back to back.
      const first = Number(flaky.got[0].headers['x-appraise-timestamp']);
      expect(Date.parse(log.deliveredAt!) / 1000 - first).toBeGreaterThanOrEqual(0.05);

      // A receiver's own check refuses a tampered body or a stale timestamp.
      const r0 = good.got[0];
      const ts = String(r0.headers['x-appraise-timestamp']);
      const sig = String(r0.headers['x-appraise-signature']);
      expect(verifyWebhookSignature({ secret: all.secret, timestamp: ts, body: r0.body, signature: sig })).toBe(true);
      expect(verifyWebhookSignature({ secret: all.secret, timestamp: ts, body: r0.body.replace('north', 'south'), signature: sig })).toBe(false);
      expect(verifyWebhookSignature({ secret: rep.secret, timestamp: ts, body: r0.body, signature: sig })).toBe(false);
      expect(verifyWebhookSignature({ secret: all.secret, timestamp: ts, body: r0.body, signature: sig, nowSeconds: Number(ts) + 3600 })).toBe(false);

      // Disabled: no more notices, and it says so in the audit log.
      await admin.disableWebhook(rep.id);
      const before = reportsOnly.got.length;
      outbox.enqueue('monitoring-report', { after: true });
      await pushReports(e, outbox);
      await until(() => good.got.length >= 14, 'the report after disabling');
      await new Promise((r) => setTimeout(r, 300));
      expect(reportsOnly.got.length).toBe(before);
      const actions = (await instances[0].registry.store.audit()).map((a) => a.action);
      expect(actions.filter((a) => a === 'webhook.create')).toHaveLength(3);
      expect(actions).toContain('webhook.disable');
    } finally {
      await good.close();
      await flaky.close();
      await reportsOnly.close();
    }
  });

  test('a receiver that never recovers is given up on after the set attempts, audited; a dead instance’s claim is retried', async () => {
    const down = await receiver(() => 500);
    const later = await receiver();
    try {
      for (const w of await admin.listWebhooks()) if (!w.disabledAt) await admin.disableWebhook(w.id);
      const hook = await admin.addWebhook(down.url, ['model.published']);
      const hook2 = await admin.addWebhook(later.url, ['model.published']);
      // An instance that claims deliveries and dies before sending: a short lease, then no finish.
      for (const i of instances) await i.registry.webhooks.stop();
      const pub = tempServices();
      workspaces.push(pub);
      const model = importVariant(pub.models, pub.dir, 42);
      await publisher.publishModel('north', 'stable', pub.models.load(model.id), publisherKey);
      const store = instances[0].registry.store;
      const claimed = await store.claimWebhookDeliveries(new Date().toISOString(), new Date(Date.now() + 300).toISOString(), 'claim_dead', 100);
      expect(claimed.map((c) => c.webhookId).sort()).toEqual([hook.id, hook2.id].sort());
      // A fresh instance on the same database takes over once the lease ends.
      const rescuer = await buildRegistry({ store: await env.stores(), webhooks: fast });
      try {
        await until(() => later.got.length === 1, 'the rescued delivery');
        await until(async () => (await admin.webhookDeliveries(hook.id))[0]?.status === 'failed', 'giving up');
        // The dead instance's late answer is ignored: its claim is gone.
        expect(
          await store.finishWebhookDelivery(claimed[0].id, 'claim_dead', {
            at: new Date().toISOString(),
            delivered: true,
            status: 200,
            error: null,
            nextAttemptAt: null,
          }),
        ).toBe(false);
      } finally {
        await rescuer.close();
      }
      expect(signedBy(hook2.secret, later.got[0])).toBe(true);
      expect(down.got).toHaveLength(fast.maxAttempts);
      const [log] = await admin.webhookDeliveries(hook.id);
      expect(log).toMatchObject({ status: 'failed', attempts: fast.maxAttempts, lastStatus: 500 });
      expect(log.lastError).toMatch(/HTTP 500/);
      const audit = await store.audit();
      expect(audit.filter((a) => a.action === 'webhook.give-up').map((a) => a.subject)).toContain(log.id);
    } finally {
      await down.close();
      await later.close();
    }
  });
});

test('webhook signatures: the documented scheme, byte for byte', () => {
  const secret = `whsec_${randomBytes(8).toString('hex')}`;
  const body = '{"id":"delivery_1"}';
  const sig = `sha256=${createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex')}`;
  expect(verifyWebhookSignature({ secret, timestamp: '1700000000', body, signature: sig, nowSeconds: 1700000100 })).toBe(true);
  expect(verifyWebhookSignature({ secret, timestamp: '1700000000', body, signature: sig.toUpperCase(), nowSeconds: 1700000100 })).toBe(false);
  expect(verifyWebhookSignature({ secret, timestamp: undefined, body, signature: sig })).toBe(false);
});
