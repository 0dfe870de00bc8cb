import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { enrolDevice } from '../core/sync/device-enrolment.js';
import { pullModels } from '../core/sync/model-puller.js';
import { packBundle } from '../core/sync/model-bundle.js';
import { seal } from '../core/sync/sealed-box.js';
import { generateEd25519Key, parseEd25519Key, type Ed25519Key } from '../core/sync/signing-keys.js';
import type { DeviceEnrolment } from '../core/sync/sync-schemas.js';
import { buildRoot, buildSnapshot, buildTimestamp, metadataJson, nextTargets, parseMetadata, resignedTargets, signMetadata } from '../registry/tuf-metadata.js';
import { importVariant, startRegistry, type TestRegistry } from './helpers/registry-fixture.js';
import { postgresAvailable, startPostgres } from './helpers/temp-postgres.js';
import { tempServices } from './helpers/temp-workspace.js';

// Key rotation per TUF against a real registry on 127.0.0.1 and real device workspaces pulling with tuf-js: the
// publisher (targets) key and the root keys are rotated, devices that trusted only the first root walk the chain,
// and whatever the revoked keys sign afterwards is refused by the registry and, from a compromised registry, by
// the devices, while their champion keeps serving.

const backends = postgresAvailable || process.env.CI ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);
let pgServer: Awaited<ReturnType<typeof startPostgres>> | undefined;
afterAll(() => pgServer?.stop());

describe.each(backends)('on %s', (backend) => {
  type Services = ReturnType<typeof tempServices>;
  let reg: TestRegistry;
  let publisherWs: Services;
  const workspaces: Services[] = [];
  const models: { id: string; name: string }[] = [];

  interface Device {
    s: Services;
    enrolment: DeviceEnrolment;
    champion: string;
    pull(): ReturnType<typeof pullModels>;
  }

  async function device(region: string): Promise<Device> {
    const s = tempServices();
    workspaces.push(s);
    const champion = importVariant(s.models, s.dir, 0).id;
    s.models.promote(champion);
    const { code } = await reg.admin.createEnrolmentCode(region, 'stable');
    const enrolment = await enrolDevice(s.workspace.dir, reg.url, code, `laptop in ${region}`);
    return { s, enrolment, champion, pull: () => pullModels(s.workspace.dir, enrolment, s.models) };
  }

  const championOf = (d: Device) => d.s.models.list().find((m) => m.status === 'champion')?.id;
  const ids = (d: Device) =>
    d.s.models
      .list()
      .map((m) => m.id)
      .sort();
  const stored = (i: number) => publisherWs.models.load(models[i].id);

  beforeAll(async () => {
    const postgresUrl = backend === 'postgres' ? (pgServer ??= await startPostgres()).url : undefined;
    reg = await startRegistry({}, postgresUrl);
    publisherWs = tempServices();
    for (let v = 1; v <= 4; v++) models.push(importVariant(publisherWs.models, publisherWs.dir, v));
  });

  afterAll(async () => {
    for (const s of workspaces) await s.cleanup();
    await publisherWs?.cleanup();
    await reg?.close();
  });

  /**
   * What a compromised registry can do (it holds the online key): store targets signed by `key` with `stored(i)`
   * added, under a fresh snapshot and timestamp; with `root`, also a new root version it was handed.
   */
  async function serveRogue(region: string, key: Ed25519Key, i: number, regionPublicKey: string, root?: string) {
    const store = reg.registry.store;
    const online = parseEd25519Key(await store.secret('online-signing-key', () => 'unused'), 'online key');
    const head = parseMetadata('targets', JSON.parse((await store.latestMetadata(region, 'stable', 'targets'))!.json));
    const sealed = Buffer.from(JSON.stringify(seal(packBundle(stored(i)), regionPublicKey)));
    const name = `models/${models[i].id}.bundle`;
    const targets = signMetadata(nextTargets(head, { name, bytes: sealed, custom: { modelId: models[i].id, name: 'rogue' } }), key);
    const sv = (await store.latestMetadata(region, 'stable', 'snapshot'))!.version + 1;
    const tv = (await store.latestMetadata(region, 'stable', 'timestamp'))!.version + 1;
    const snapshot = JSON.stringify(signMetadata(buildSnapshot(sv, targets.signed.version, 86_400_000), online).toJSON());
    const timestamp = JSON.stringify(signMetadata(buildTimestamp(tv, snapshot, sv, 86_400_000), online).toJSON());
    const rv = (await store.latestMetadata(region, 'stable', 'root'))!.version + 1;
    const ok = await store.putMetadata(
      region,
      'stable',
      [
        ...(root ? [{ role: 'root', version: rv, json: root }] : []),
        { role: 'targets', version: targets.signed.version, json: JSON.stringify(targets.toJSON()) },
        { role: 'snapshot', version: sv, json: snapshot },
        { role: 'timestamp', version: tv, json: timestamp },
      ],
      [{ sha256: createHash('sha256').update(sealed).digest('hex'), name: `${models[i].id}.bundle`, bytes: sealed }],
      null,
    );
    expect(ok).toBe(true);
  }

  test('publisher key rotation: current targets re-signed by the new key; every device follows, the old key is refused everywhere', async () => {
    await reg.createRepository('pub');
    const regionKey = await reg.publisher.regionPublicKey('pub', 'stable');
    const early = await device('pub'); // pulls before the rotation: trusts root 1 and targets 1
    const idle = await device('pub'); // enrolled before, never pulls until after: holds only root 1
    await reg.publisher.publishModel('pub', 'stable', stored(0), reg.publisherKey);
    expect((await early.pull()).trust).toMatchObject({ rootVersion: 1, targetsVersion: 1 });

    const newPublisher = generateEd25519Key();
    const rotated = await reg.admin.rotateKeys('pub', 'stable', { currentRoot: reg.rootKeys.slice(1), publishers: [newPublisher] });
    expect(rotated).toEqual({ rootVersion: 2, targetsVersion: 2, snapshotVersion: 2, timestampVersion: 2 });
    const head = await reg.admin.repositoryHead('pub', 'stable');
    const root2 = parseMetadata('root', head.root);
    expect(root2.signed.roles.targets.keyIDs).toEqual([newPublisher.keyId]);
    // The root keys did not change, and root 2 is signed by the current ones.
    expect(root2.signed.roles.root.keyIDs.sort()).toEqual(reg.rootKeys.map((k) => k.keyId).sort());
    expect(Object.keys(parseMetadata('targets', head.targets).signed.targets)).toEqual([`models/${models[0].id}.bundle`]);

    // The registry now refuses the revoked publisher key; the new one publishes.
    await expect(reg.publisher.publishModel('pub', 'stable', stored(1), reg.publisherKey)).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: /not signed by the publisher key/,
    });
    expect((await reg.publisher.publishModel('pub', 'stable', stored(1), newPublisher)).targetsVersion).toBe(3);

    // A device that pulled before follows root 1 → 2 and takes only what is new.
    const followed = await early.pull();
    expect(followed.trust).toMatchObject({ rootVersion: 2, targetsVersion: 3 });
    expect(followed.imported).toEqual([{ id: models[1].id, name: 'variant-2' }]);
    expect(followed.unchanged).toBe(1);
    // A device holding only root 1 updates through root 2 and verifies targets only the new key signed.
    const caughtUp = await idle.pull();
    expect(caughtUp.trust).toMatchObject({ rootVersion: 2, targetsVersion: 3 });
    expect(caughtUp.imported.map((m) => m.id).sort()).toEqual([models[0].id, models[1].id].sort());
    expect(caughtUp.refused).toEqual([]);

    // A compromised registry serving targets signed by the revoked key: refused, nothing imported.
    await serveRogue('pub', reg.publisherKey, 2, regionKey);
    for (const d of [early, idle]) {
      const before = ids(d);
      await expect(d.pull()).rejects.toMatchObject({ details: { reason: 'unsigned' }, message: /not signed by the keys this device trusts/ });
      expect(ids(d)).toEqual(before);
      expect(championOf(d)).toBe(d.champion);
    }
  });

  test('root key rotation, twice: a device with only the first root walks the chain; the old root keys cannot sign a next root', async () => {
    await reg.createRepository('chain');
    const regionKey = await reg.publisher.regionPublicKey('chain', 'stable');
    const d = await device('chain');
    await reg.publisher.publishModel('chain', 'stable', stored(0), reg.publisherKey);

    // 1. New root keys (3, threshold 2), same publisher: targets still verify, nothing to re-sign.
    const newRoot = [generateEd25519Key(), generateEd25519Key(), generateEd25519Key()];
    expect(await reg.admin.rotateKeys('chain', 'stable', { currentRoot: reg.rootKeys, newRoot, threshold: 2 })).toEqual({
      rootVersion: 2,
      targetsVersion: null,
      snapshotVersion: null,
      timestampVersion: null,
    });
    // 2. With the new root keys, a new publisher key too.
    const newPublisher = generateEd25519Key();
    expect(await reg.admin.rotateKeys('chain', 'stable', { currentRoot: newRoot.slice(0, 2), publishers: [newPublisher] })).toMatchObject({
      rootVersion: 3,
      targetsVersion: 2,
    });
    await reg.publisher.publishModel('chain', 'stable', stored(1), newPublisher);

    const pulled = await d.pull();
    expect(pulled.trust).toMatchObject({ rootVersion: 3, targetsVersion: 3 });
    expect(pulled.imported.map((m) => m.id).sort()).toEqual([models[0].id, models[1].id].sort());

    // The retired root keys cannot rotate any more: the registry wants a threshold of the current ones.
    await expect(reg.admin.rotateKeys('chain', 'stable', { currentRoot: reg.rootKeys, publishers: [generateEd25519Key()] })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: /needs 2 of its root keys to sign; 0 of the given key files/,
    });
    // Signed by them anyway and uploaded as is: refused by the registry…
    const rogue = generateEd25519Key();
    const online = parseMetadata('root', (await reg.admin.repositoryHead('chain', 'stable')).root).signed.roles.snapshot.keyIDs[0];
    const onlinePublic = String(parseMetadata('root', (await reg.admin.repositoryHead('chain', 'stable')).root).signed.keys[online].keyVal.public);
    const forged = signMetadata(
      buildRoot(4, { root: reg.rootKeys, rootThreshold: 2, targets: [rogue], online: { keyId: online, publicKey: onlinePublic } }),
      ...reg.rootKeys,
    );
    await expect(
      reg.admin.call('POST', '/admin/repositories/chain/stable/rotate', { root: metadataJson(forged), targets: null }, z.unknown()),
    ).rejects.toMatchObject({ code: 'FORBIDDEN', message: /not signed by enough root keys/ });
    // …and by the device when a compromised registry serves it with targets signed by the rogue key.
    await serveRogue('chain', rogue, 2, regionKey, JSON.stringify(forged.toJSON()));
    await expect(d.pull()).rejects.toMatchObject({ details: { reason: 'unsigned' } });
    expect(ids(d)).toEqual([d.champion, models[0].id, models[1].id].sort());
    expect(championOf(d)).toBe(d.champion);
  });

  test('the registry refuses a rotation that would strand devices or slip in a change', async () => {
    await reg.createRepository('guard');
    await reg.publisher.publishModel('guard', 'stable', stored(0), reg.publisherKey);
    const newPublisher = generateEd25519Key();
    const head = await reg.admin.repositoryHead('guard', 'stable');
    const current = parseMetadata('root', head.root);
    const online = current.signed.roles.snapshot.keyIDs[0];
    const onlineKey = { keyId: online, publicKey: String(current.signed.keys[online].keyVal.public) };
    const root2 = () =>
      metadataJson(
        signMetadata(buildRoot(2, { root: reg.rootKeys, rootThreshold: 2, targets: [newPublisher], online: onlineKey }), ...reg.rootKeys.slice(0, 2)),
      );
    const post = (body: unknown) => reg.admin.call('POST', '/admin/repositories/guard/stable/rotate', body, z.unknown());

    // A new publisher key in root with the targets left as they are: every device would refuse every model.
    await expect(post({ root: root2(), targets: null })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: /must be re-signed with the new key/ });
    // The same through the plain root upload.
    await expect(reg.admin.call('PUT', '/admin/repositories/guard/stable/root', root2(), z.unknown())).rejects.toMatchObject({
      code: 'CONFLICT',
      message: /rotate-key/,
    });
    const prev = parseMetadata('targets', head.targets);
    // Re-signed by the old key instead of the new one.
    await expect(post({ root: root2(), targets: metadataJson(signMetadata(resignedTargets(prev), reg.publisherKey)) })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: /not signed by the targets key the new root names/,
    });
    // A model slipped in with the re-signing.
    const sneaked = nextTargets(prev, { name: `models/${models[1].id}.bundle`, bytes: Buffer.from('x'), custom: { modelId: models[1].id, name: 'x' } });
    await expect(post({ root: root2(), targets: metadataJson(signMetadata(sneaked, newPublisher)) })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: new RegExp(`models/${models[1].id}.bundle was added, removed or changed`),
    });
    // Nothing of the refused attempts was stored; the real rotation then works and is audited.
    expect((await reg.admin.repositoryHead('guard', 'stable')).root).toEqual(head.root);
    expect(await post({ root: root2(), targets: metadataJson(signMetadata(resignedTargets(prev), newPublisher)) })).toMatchObject({
      rootVersion: 2,
      targetsVersion: 2,
    });
    const audit = (await reg.registry.store.audit()).filter((a) => a.action === 'root.rotate' && a.subject === 'guard/stable');
    expect(audit).toHaveLength(1);
    expect(audit[0].details).toMatchObject({ rootVersion: 2, targetsVersion: 2, targetsKeys: [newPublisher.keyId] });
    // A publisher cannot rotate.
    await expect(reg.publisher.call('GET', '/admin/repositories/guard/stable', undefined, z.unknown())).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
