import { afterAll, expect, test } from 'vitest';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
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
});
