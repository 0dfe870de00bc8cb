import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { enrolDevice } from '../core/sync/device-enrolment.js';
import { pullModels } from '../core/sync/model-puller.js';
import { generateEd25519Key, parseEd25519Key } from '../core/sync/signing-keys.js';
import { seal } from '../core/sync/sealed-box.js';
import { packBundle } from '../core/sync/model-bundle.js';
import type { DeviceEnrolment } from '../core/sync/sync-schemas.js';
import { buildSnapshot, buildTimestamp, nextTargets, parseMetadata, signMetadata } from '../registry/tuf-metadata.js';
import { tempServices } from './helpers/temp-workspace.js';
import { importVariant, startRegistry, type TestRegistry } from './helpers/registry-fixture.js';
import { startFaultProxy } from './helpers/fault-proxy.js';
import { postgresAvailable, startPostgres } from './helpers/temp-postgres.js';

// A registry on 127.0.0.1, a publisher workspace with real models, and device workspaces that each have a
// champion of their own: every test checks what arrived and that the champion never moved.

// Both backends run the same suite; CI installs PostgreSQL (.ci/run), so there it never skips.
const backends = postgresAvailable || process.env.CI ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);
let pgServer: Awaited<ReturnType<typeof startPostgres>> | undefined;
afterAll(() => pgServer?.stop());

describe.each(backends)('on %s', (backend) => {
  let postgresUrl: string | undefined;
  beforeAll(async () => {
    if (backend === 'postgres') postgresUrl = (pgServer ??= await startPostgres()).url;
  });

  type Services = ReturnType<typeof tempServices>;
  let reg: TestRegistry;
  let publisherWs: Services;
  const devices: Services[] = [];
  const models: { id: string; name: string }[] = [];

  interface Device {
    s: Services;
    enrolment: DeviceEnrolment;
    champion: string;
    pull(): ReturnType<typeof pullModels>;
  }

  async function device(region: string, r: TestRegistry = reg): Promise<Device> {
    const s = tempServices();
    devices.push(s);
    const champion = importVariant(s.models, s.dir, 0).id;
    s.models.promote(champion);
    const { code } = await r.admin.createEnrolmentCode(region, 'stable');
    const enrolment = await enrolDevice(s.workspace.dir, r.url, code, `laptop in ${region}`);
    return { s, enrolment, champion, pull: () => pullModels(s.workspace.dir, enrolment, s.models) };
  }

  const championOf = (d: Device) => d.s.models.list().find((m) => m.status === 'champion')?.id;
  const stored = (i: number) => publisherWs.models.load(models[i].id);

  beforeAll(async () => {
    reg = await startRegistry({}, postgresUrl);
    publisherWs = tempServices();
    for (let v = 1; v <= 4; v++) models.push(importVariant(publisherWs.models, publisherWs.dir, v));
  });

  afterAll(async () => {
    for (const d of devices) await d.cleanup();
    await publisherWs?.cleanup();
    await reg?.close();
  });

  test('enrol, publish, pull: the model arrives verified and decrypted as a challenger on every device of its region, once', async () => {
    await reg.createRepository('north');
    await reg.createRepository('south');
    const [a, b, south] = [await device('north'), await device('north'), await device('south')];
    expect(await reg.publisher.publishModel('north', 'stable', stored(0), reg.publisherKey)).toEqual({
      targetsVersion: 1,
      snapshotVersion: 1,
      timestampVersion: 1,
    });
    for (const d of [a, b]) {
      const result = await d.pull();
      expect(result.imported).toEqual([{ id: models[0].id, name: 'variant-1' }]);
      expect(result.refused).toEqual([]);
      expect(result.trust).toMatchObject({ rootVersion: 1, timestampVersion: 1, snapshotVersion: 1, targetsVersion: 1 });
      expect(d.s.models.summary(models[0].id).status).toBe('challenger');
      expect(championOf(d)).toBe(d.champion);
      // The imported model is byte-identical to what the publisher had.
      expect(d.s.models.load(models[0].id).onnx.equals(stored(0).onnx)).toBe(true);
      // A second pull downloads nothing new.
      const again = await d.pull();
      expect(again.imported).toEqual([]);
      expect(again.unchanged).toBe(1);
    }
    // The south device sees nothing of north's model.
    await expect(south.pull()).rejects.toMatchObject({ details: { reason: 'not-published' } });
    expect(south.s.models.list().map((m) => m.id)).toEqual([south.champion]);
  });

  test("a device cannot read another region's metadata or targets, and a revoked device gets 401 with no data", async () => {
    await reg.createRepository('east');
    const [east, other] = [await device('east'), await device('east')];
    await reg.publisher.publishModel('north', 'stable', stored(1), reg.publisherKey);
    const get = (path: string, token: string) => fetch(new URL(path, reg.url), { headers: { authorization: `Bearer ${token}` } });
    const foreign = await get('/repos/north/stable/metadata/timestamp.json', east.enrolment.token);
    expect(foreign.status).toBe(403);
    expect(await foreign.text()).not.toContain('signed');
    const target = `/repos/north/stable/targets/models/${'0'.repeat(64)}.${models[1].id}.bundle`;
    expect((await get(target, east.enrolment.token)).status).toBe(403);
    expect((await get('/repos/east/stable/metadata/1.root.json', 'apt_not-a-token')).status).toBe(401);

    await reg.admin.revokeDevice(east.enrolment.deviceId);
    const revoked = await get('/repos/east/stable/metadata/1.root.json', east.enrolment.token);
    expect(revoked.status).toBe(401);
    expect(await revoked.text()).not.toContain('signed');
    await expect(east.pull()).rejects.toMatchObject({ code: 'UNAUTHORIZED', details: { reason: 'unauthorized' } });
    // The other device of the region is unaffected.
    expect((await get('/repos/east/stable/metadata/1.root.json', other.enrolment.token)).status).toBe(200);
    expect(championOf(east)).toBe(east.champion);
  });

  test('an enrolment code works once, and an unknown one is refused', async () => {
    const { code } = await reg.admin.createEnrolmentCode('north', 'stable');
    const s = tempServices();
    devices.push(s);
    await enrolDevice(s.workspace.dir, reg.url, code, 'first');
    const t = tempServices();
    devices.push(t);
    await expect(enrolDevice(t.workspace.dir, reg.url, code, 'second')).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: /already used or expired/ });
    await expect(enrolDevice(t.workspace.dir, reg.url, 'enr_guessed-code-000', 'third')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  test('the registry refuses targets not signed by the publisher key, and a device refuses them from a compromised registry', async () => {
    await reg.createRepository('west');
    const d = await device('west');
    await reg.publisher.publishModel('west', 'stable', stored(0), reg.publisherKey);
    expect((await d.pull()).imported).toHaveLength(1);
    const rogue = generateEd25519Key();
    await expect(reg.publisher.publishModel('west', 'stable', stored(1), rogue)).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: /not signed by the publisher key/,
    });

    // A compromised registry (it holds the online key) signs a fresh snapshot and timestamp over rogue targets.
    const head = parseMetadata('targets', JSON.parse((await reg.registry.store.latestMetadata('west', 'stable', 'targets'))!.json));
    const sealed = Buffer.from(JSON.stringify(seal(packBundle(stored(1)), d.enrolment.regionKey.publicKey)));
    const targets = signMetadata(
      nextTargets(head, { name: `models/${models[1].id}.bundle`, bytes: sealed, custom: { modelId: models[1].id, name: 'evil' } }),
      rogue,
    );
    await serveAsCompromisedRegistry(reg, 'west', JSON.stringify(targets.toJSON()), targets.signed.version, [
      { sha256: sha256(sealed), name: `${models[1].id}.bundle`, bytes: sealed },
    ]);
    await expect(d.pull()).rejects.toMatchObject({ details: { reason: 'unsigned' }, message: /not signed by the keys this device trusts/ });
    expect(() => d.s.models.summary(models[1].id)).toThrow(/no model/);
    expect(championOf(d)).toBe(d.champion);
  });

  test('rollback: a registry replaying an older snapshot is refused and the device keeps what it trusts', async () => {
    await reg.createRepository('rollback');
    const d = await device('rollback');
    await reg.publisher.publishModel('rollback', 'stable', stored(0), reg.publisherKey);
    await reg.publisher.publishModel('rollback', 'stable', stored(1), reg.publisherKey);
    expect((await d.pull()).trust.snapshotVersion).toBe(2);
    // The server now points its newest timestamp at snapshot 1 (which lists only the first model).
    const online = parseEd25519Key(await reg.registry.store.secret('online-signing-key', () => 'unused'), 'online key');
    const snap1 = (await reg.registry.store.metadata('rollback', 'stable', 'snapshot', 1))!;
    const ts = signMetadata(buildTimestamp(3, snap1, 1, 86_400_000), online);
    await reg.registry.store.putMetadata('rollback', 'stable', [{ role: 'timestamp', version: 3, json: JSON.stringify(ts.toJSON()) }], [], null);
    await expect(d.pull()).rejects.toMatchObject({ details: { reason: 'rollback' } });
    expect(championOf(d)).toBe(d.champion);
    expect(d.s.models.list()).toHaveLength(3);
  });

  test('freeze: an expired timestamp is refused and said so; the champion keeps serving', async () => {
    const frozen = await startRegistry({ tuf: { timestampTtlMs: 1500, renewTimestamp: false } }, postgresUrl);
    try {
      await frozen.createRepository('north');
      const d = await device('north', frozen);
      await frozen.publisher.publishModel('north', 'stable', stored(0), frozen.publisherKey);
      expect((await d.pull()).imported).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 1700));
      await expect(d.pull()).rejects.toMatchObject({ details: { reason: 'expired' }, message: /metadata has expired/ });
      expect(championOf(d)).toBe(d.champion);
    } finally {
      await frozen.close();
    }
  });

  test('a flipped bit in a signed ciphertext, a bundle for another region and a manifest from another model are each refused; good models still arrive', async () => {
    await reg.createRepository('mixed');
    await reg.createRepository('mixed-other');
    const d = await device('mixed');
    const regionKey = await reg.publisher.regionPublicKey('mixed', 'stable');
    const otherKey = await reg.publisher.regionPublicKey('mixed-other', 'stable');
    // 1. The publisher signs a ciphertext with one bit flipped: TUF accepts the bytes, AES-GCM does not.
    const box = seal(packBundle(stored(0)), regionKey);
    const ct = Buffer.from(box.ciphertext, 'base64');
    ct[ct.length >> 1] ^= 0x01;
    await reg.publisher.publishBytes(
      'mixed',
      'stable',
      { modelId: models[0].id, name: 'flipped' },
      Buffer.from(JSON.stringify({ ...box, ciphertext: ct.toString('base64') })),
      reg.publisherKey,
    );
    // 2. A bundle encrypted for another region.
    await reg.publisher.publishBytes(
      'mixed',
      'stable',
      { modelId: models[2].id, name: 'foreign' },
      Buffer.from(JSON.stringify(seal(packBundle(stored(2)), otherKey))),
      reg.publisherKey,
    );
    // 3. Model 1's bundle signed as if it were model 4 (mix-and-match).
    await reg.publisher.publishBytes(
      'mixed',
      'stable',
      { modelId: models[3].id, name: 'swapped' },
      Buffer.from(JSON.stringify(seal(packBundle(stored(0)), regionKey))),
      reg.publisherKey,
    );
    // 4. A good one.
    await reg.publisher.publishModel('mixed', 'stable', stored(1), reg.publisherKey);

    const result = await d.pull();
    const reasons = Object.fromEntries(result.refused.map((r) => [r.target, r.reason]));
    expect(reasons).toEqual({
      [`models/${models[0].id}.bundle`]: 'decrypt-failed',
      [`models/${models[2].id}.bundle`]: 'decrypt-failed',
      [`models/${models[3].id}.bundle`]: 'wrong-model',
    });
    expect(result.imported.map((m) => m.id)).toEqual([models[1].id]);
    expect(result.refused.find((r) => r.target.includes(models[0].id))!.message).toMatch(/integrity check/);
    expect(result.refused.find((r) => r.target.includes(models[2].id))!.message).toMatch(/encrypted for another key/);
    expect(result.refused.find((r) => r.reason === 'wrong-model')!.message).toMatch(/mix-and-match/);
    expect(championOf(d)).toBe(d.champion);
    expect(
      d.s.models
        .list()
        .map((m) => m.id)
        .sort(),
    ).toEqual([d.champion, models[1].id].sort());
  });

  test('root key rotation: devices follow a root signed by the old and new keys; a root signed only by new keys is refused', async () => {
    await reg.createRepository('rotate');
    const d = await device('rotate');
    await reg.publisher.publishModel('rotate', 'stable', stored(0), reg.publisherKey);
    await d.pull();
    const newRoot = [generateEd25519Key(), generateEd25519Key(), generateEd25519Key()];
    await expect(reg.admin.rotateRoot('rotate', 'stable', 2, { oldRoot: [], newRoot, threshold: 2, publishers: [reg.publisherKey] })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(await reg.admin.rotateRoot('rotate', 'stable', 2, { oldRoot: reg.rootKeys, newRoot, threshold: 2, publishers: [reg.publisherKey] })).toEqual({
      version: 2,
    });
    await reg.publisher.publishModel('rotate', 'stable', stored(1), reg.publisherKey);
    const result = await d.pull();
    expect(result.trust.rootVersion).toBe(2);
    expect(result.imported.map((m) => m.id)).toEqual([models[1].id]);
  });

  test('endless data and a bit flipped in transit: a target longer than signed, or not matching its hash, is refused', async () => {
    await reg.createRepository('transit');
    const d = await device('transit');
    await reg.publisher.publishModel('transit', 'stable', stored(0), reg.publisherKey);
    let attack: 'grow' | 'flip' = 'grow';
    const proxy = await startFaultProxy({
      target: () => reg.url,
      decide: () => 'none',
      rewrite: (req, _status, body) => {
        if (!req.path.includes('/targets/')) return body;
        if (attack === 'grow') return Buffer.concat([body, Buffer.alloc(1_000_000, 0x20)]);
        const copy = Buffer.from(body);
        copy[copy.length >> 1] ^= 0x01;
        return copy;
      },
    });
    try {
      const viaProxy = () => pullModels(d.s.workspace.dir, { ...d.enrolment, registryUrl: proxy.url }, d.s.models);
      const grown = await viaProxy();
      expect(grown.refused).toEqual([
        expect.objectContaining({ reason: 'too-large', message: expect.stringMatching(/more bytes than the signed metadata allows/) }),
      ]);
      attack = 'flip';
      const flipped = await viaProxy();
      expect(flipped.refused).toEqual([expect.objectContaining({ reason: 'hash-mismatch' })]);
      expect(flipped.imported).toEqual([]);
      expect(championOf(d)).toBe(d.champion);
      expect(d.s.models.list()).toHaveLength(1);
      // Straight from the registry, the same target arrives intact.
      expect((await d.pull()).imported.map((m) => m.id)).toEqual([models[0].id]);
    } finally {
      await proxy.close();
    }
  });

  test('every mutation is in the audit log, which cannot be edited', async () => {
    const audit = await reg.registry.store.audit();
    const actions = new Set(audit.map((a) => a.action));
    for (const a of ['credential.create', 'repository.create', 'root.accept', 'enrolment-code.create', 'device.enrol', 'model.publish', 'credential.revoke'])
      expect(actions).toContain(a);
  });
});

async function serveAsCompromisedRegistry(
  reg: TestRegistry,
  region: string,
  targetsJson: string,
  targetsVersion: number,
  blobs: { sha256: string; name: string; bytes: Buffer }[],
): Promise<void> {
  const store = reg.registry.store;
  const online = parseEd25519Key(await store.secret('online-signing-key', () => 'unused'), 'online key');
  const sv = (await store.latestMetadata(region, 'stable', 'snapshot'))!.version + 1;
  const tv = (await store.latestMetadata(region, 'stable', 'timestamp'))!.version + 1;
  const snapshot = JSON.stringify(signMetadata(buildSnapshot(sv, targetsVersion, 86_400_000), online).toJSON());
  const timestamp = JSON.stringify(signMetadata(buildTimestamp(tv, snapshot, sv, 86_400_000), online).toJSON());
  const ok = await store.putMetadata(
    region,
    'stable',
    [
      { role: 'targets', version: targetsVersion, json: targetsJson },
      { role: 'snapshot', version: sv, json: snapshot },
      { role: 'timestamp', version: tv, json: timestamp },
    ],
    blobs,
    null,
  );
  expect(ok).toBe(true);
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
