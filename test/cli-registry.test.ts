import { afterAll, expect, test } from 'vitest';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '../registry/webhooks.js';
import { openServices } from '../core/services/open-workspace.js';
import { runCli, spawnCli } from './helpers/run-cli.js';
import { tempDir } from './helpers/temp-workspace.js';
import { importVariant } from './helpers/registry-fixture.js';

// The whole path through the real CLI: a registry served by `appraise registry serve`, set up with offline keys,
// a model published from one workspace and pulled into another.

const { dir, cleanup } = tempDir('appraise-cli-registry-');
const server = spawnCli(['registry', 'serve', '--data', join(dir, 'registry'), '--port', '0']);
afterAll(async () => {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('close', r));
  cleanup();
});

async function ok(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Record<string, unknown>> {
  const r = await runCli(['--json', ...args], env);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

test('serve, init, keygen, create-repo, publish, enrol, pull and status through the CLI', { timeout: 300_000 }, async () => {
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    server.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) resolve(m[1]);
    });
    server.once('close', () => reject(new Error(`registry exited: ${err}`)));
  });
  // init opens the same data folder as the running server (SQLite WAL allows it).
  const admin = (await ok(['registry', 'init', '--data', join(dir, 'registry'), '--name', 'ops'])).token as string;
  const keys = ['root1', 'root2', 'root3', 'publisher'].map((k) => join(dir, `${k}.key`));
  for (const k of keys) await ok(['registry', 'keygen', '--out', k]);
  const asAdmin = { APPRAISE_REGISTRY_TOKEN: admin };
  await ok(
    ['registry', 'create-repo', '--url', url, '--region', 'lisbon', '--root-key', keys[0], keys[1], keys[2], '--threshold', '2', '--publisher-key', keys[3]],
    asAdmin,
  );
  const publisher = (await ok(['registry', 'credential', '--url', url, '--role', 'publisher', '--name', 'analyst'], asAdmin)).token as string;
  const code = (await ok(['registry', 'enrolment-code', '--url', url, '--region', 'lisbon'], asAdmin)).code as string;

  const publisherWs = join(dir, 'publisher-ws');
  const s = openServices(publisherWs);
  const model = importVariant(s.models, dir, 1);
  await s.close();
  const published = await ok(['-w', publisherWs, 'registry', 'publish', model.id.slice(0, 12), '--url', url, '--region', 'lisbon', '--key', keys[3]], {
    APPRAISE_REGISTRY_TOKEN: publisher,
  });
  expect(published).toMatchObject({ targetsVersion: 1 });

  const deviceWs = join(dir, 'device-ws');
  await ok(['-w', deviceWs, 'sync', 'enrol', '--url', url, '--code', code, '--name', 'field laptop']);
  // One SyncService cycle, the same the app runs.
  const pulled = await ok(['-w', deviceWs, 'sync', 'now']);
  expect(pulled).toMatchObject({ ok: true, pulledModels: [{ id: model.id, name: 'variant-1' }], refused: [] });
  const status = await ok(['-w', deviceWs, 'sync', 'status']);
  expect(status).toMatchObject({
    enrolled: true,
    region: 'lisbon',
    channel: 'stable',
    outboxDepth: 0,
    trust: { rootVersion: 1, targetsVersion: 1 },
    lastCycle: { ok: true, trigger: 'manual', pulled: 1 },
    waitingChallengers: [{ id: model.id }],
  });
  // The old name runs the same cycle: nothing new, and it says so.
  expect(await ok(['-w', deviceWs, 'sync', 'pull'])).toMatchObject({ ok: true, pulled: 0 });

  // An app release through the CLI: electron-builder's feed and the installer beside it.
  const installer = Buffer.from('not really an AppImage, but bytes all the same');
  const releaseDir = join(dir, 'release');
  mkdirSync(releaseDir);
  writeFileSync(join(releaseDir, 'Appraise-0.2.0.AppImage'), installer);
  const sha512 = createHash('sha512').update(installer).digest('base64');
  writeFileSync(
    join(releaseDir, 'latest-linux.yml'),
    `version: 0.2.0\nfiles:\n  - url: Appraise-0.2.0.AppImage\n    sha512: ${sha512}\n    size: ${installer.length}\n`,
  );
  const app = await ok(['registry', 'publish-app', '--feed', join(releaseDir, 'latest-linux.yml'), '--url', url, '--region', 'lisbon', '--key', keys[3]], {
    APPRAISE_REGISTRY_TOKEN: publisher,
  });
  expect(app).toMatchObject({ targetsVersion: 2 });

  // A publisher token cannot do admin work, and says so.
  const refused = await runCli(['registry', 'enrolment-code', '--url', url, '--region', 'lisbon'], { APPRAISE_REGISTRY_TOKEN: publisher });
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(/for admin credentials, not publisher/);
  setup = { url, asAdmin, publisher, keys, publisherWs, deviceWs };
});

/** What the first test set up, for the ones after it (same server, same repository). */
let setup: { url: string; asAdmin: NodeJS.ProcessEnv; publisher: string; keys: string[]; publisherWs: string; deviceWs: string } | undefined;

test('rotate-key: a new publisher key through the CLI; the device follows, the old key cannot publish', { timeout: 300_000 }, async () => {
  const { url, asAdmin, publisher, keys, publisherWs, deviceWs } = setup!;
  const newKey = join(dir, 'publisher2.key');
  await ok(['registry', 'keygen', '--out', newKey]);
  const nothing = await runCli(['registry', 'rotate-key', '--url', url, '--region', 'lisbon', '--root-key', keys[0], keys[1]], asAdmin);
  expect(nothing.code).toBe(1);
  expect(nothing.stderr).toMatch(/say what to rotate/);
  // One current root key is not enough: the threshold is 2.
  const short = await runCli(['registry', 'rotate-key', '--url', url, '--region', 'lisbon', '--root-key', keys[0], '--publisher-key', newKey], asAdmin);
  expect(short.code).toBe(1);
  expect(short.stderr).toMatch(/needs 2 of its root keys to sign; 1 of the given key files/);
  const rotated = await ok(['registry', 'rotate-key', '--url', url, '--region', 'lisbon', '--root-key', keys[1], keys[2], '--publisher-key', newKey], asAdmin);
  expect(rotated).toEqual({ rootVersion: 2, targetsVersion: 3, snapshotVersion: 3, timestampVersion: 3 });

  const s = openServices(publisherWs);
  const model = importVariant(s.models, dir, 2);
  await s.close();
  const asPublisher = { APPRAISE_REGISTRY_TOKEN: publisher };
  const publish = (key: string) =>
    runCli(['--json', '-w', publisherWs, 'registry', 'publish', model.id.slice(0, 12), '--url', url, '--region', 'lisbon', '--key', key], asPublisher);
  const old = await publish(keys[3]);
  expect(old.code).toBe(1);
  expect(old.stderr).toMatch(/not signed by the publisher key that root names/);
  const fresh = await publish(newKey);
  expect(fresh.code, fresh.stderr).toBe(0);
  expect(JSON.parse(fresh.stdout)).toMatchObject({ targetsVersion: 4 });

  expect(await ok(['-w', deviceWs, 'sync', 'now'])).toMatchObject({ ok: true, pulledModels: [{ id: model.id }], refused: [] });
  expect(await ok(['-w', deviceWs, 'sync', 'status'])).toMatchObject({ trust: { rootVersion: 2, targetsVersion: 4 } });
});

test('registry webhooks add, list, deliveries and remove through the CLI; a real receiver gets a notice it can verify', { timeout: 300_000 }, async () => {
  const { url, asAdmin, publisher, publisherWs } = setup!;
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const target = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  try {
    const wrong = await runCli(['registry', 'webhooks', 'add', '--url', url, '--target', target, '--events', 'model.pubished'], asAdmin);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/"model.pubished" is not an event; choose from model.published, app.published, report.received/);
    const asPublisher = await runCli(['registry', 'webhooks', 'list', '--url', url], { APPRAISE_REGISTRY_TOKEN: publisher });
    expect(asPublisher.code).toBe(1);
    expect(asPublisher.stderr).toMatch(/for admin credentials, not publisher/);

    const hook = await ok(
      ['registry', 'webhooks', 'add', '--url', url, '--target', target, '--events', 'model.published', '--description', 'warehouse'],
      asAdmin,
    );
    expect(hook).toMatchObject({
      url: target,
      events: ['model.published'],
      description: 'warehouse',
      disabledAt: null,
      secret: expect.stringMatching(/^whsec_/),
    });
    const listed = (await runCli(['--json', 'registry', 'webhooks', 'list', '--url', url], asAdmin)).stdout;
    expect(JSON.parse(listed)).toEqual([expect.objectContaining({ id: hook.id, url: target })]);
    expect(listed).not.toContain(hook.secret as string);

    // A publish through the CLI: the running registry tells the receiver, signed with the secret add printed.
    const s = openServices(publisherWs);
    const model = importVariant(s.models, dir, 3);
    await s.close();
    const published = await runCli(
      ['--json', '-w', publisherWs, 'registry', 'publish', model.id.slice(0, 12), '--url', url, '--region', 'lisbon', '--key', join(dir, 'publisher2.key')],
      {
        APPRAISE_REGISTRY_TOKEN: publisher,
      },
    );
    expect(published.code, published.stderr).toBe(0);
    await expect.poll(() => received.length, { timeout: 30_000 }).toBe(1);
    const notice = received[0];
    expect(
      verifyWebhookSignature({
        secret: hook.secret as string,
        timestamp: notice.headers['x-appraise-timestamp'] as string,
        body: notice.body,
        signature: notice.headers['x-appraise-signature'] as string,
      }),
    ).toBe(true);
    expect(JSON.parse(notice.body)).toMatchObject({ event: 'model.published', data: { region: 'lisbon', targets: [{ custom: { modelId: model.id } }] } });
    await expect
      .poll(
        async () => JSON.parse((await runCli(['--json', 'registry', 'webhooks', 'deliveries', hook.id as string, '--url', url], asAdmin)).stdout) as unknown[],
        {
          timeout: 30_000,
        },
      )
      .toEqual([expect.objectContaining({ event: 'model.published', status: 'delivered', attempts: 1, lastStatus: 204 })]);

    expect(await ok(['registry', 'webhooks', 'remove', hook.id as string, '--url', url], asAdmin)).toMatchObject({
      id: hook.id,
      disabledAt: expect.any(String),
    });
    const text = await runCli(['registry', 'webhooks', 'list', '--url', url], asAdmin);
    expect(text.stdout).toMatch(new RegExp(`${hook.id as string}  disabled `));
    const unknown = await runCli(['registry', 'webhooks', 'remove', 'webhook_nope', '--url', url], asAdmin);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no webhook webhook_nope/);
  } finally {
    receiver.close();
  }
});
