import { test, expect, afterAll, beforeAll } from 'vitest';
import { join } from 'node:path';
import { tempAppHost, repoRoot, kcConfigPath } from './helpers/temp-workspace.js';
import { listenWebHost, TOKEN_HEADER, type ListeningWebHost } from '../core/api/web-host.js';
import { createAppHost, type AppHost } from '../core/app/app-host.js';
import { osActor } from '../core/audit/audit-trail.js';
import { methodNames } from '../core/contract/contract.js';
import { APPRAISER_METHODS, requiredRole } from '../core/contract/roles.js';
import { runCli } from './helpers/run-cli.js';
import { tempDir } from './helpers/temp-workspace.js';

let appraiser: AppHost & { cleanup: () => Promise<void> };
let web: ListeningWebHost;
let modelId: string;

beforeAll(async () => {
  appraiser = await tempAppHost({ role: 'appraiser', jobsInWorkers: false, processName: 'none', sync: { background: false } });
  const bundled = join(repoRoot, 'models', 'king-county');
  // Set up as the analyst would, through the services: a model to (try to) promote.
  modelId = appraiser.services.models.importFrom(join(bundled, 'model.onnx'), join(bundled, 'manifest.json')).id;
  web = await listenWebHost({ dispatcher: appraiser.dispatcher, staticDir: null, port: 0 });
}, 60_000);

afterAll(async () => {
  await web?.close();
  await appraiser?.cleanup();
});

const post = async (method: string, body: unknown) => {
  const r = await fetch(`${web.origin}/api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [TOKEN_HEADER]: web.token },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as { ok: boolean; error?: { code: string; message: string } } };
};

test('an appraiser session is refused training, promotion, ingest, sync and settings over HTTP with FORBIDDEN, and nothing happens', async () => {
  const refused = [
    ['train', { dataset: 'anything' }],
    ['models.promote', { ref: modelId }],
    ['models.rollback', {}],
    ['models.import', { onnx: '/tmp/x.onnx', manifest: '/tmp/m.json' }],
    ['datasets.ingest', { file: '/tmp/x.csv', config: kcConfigPath }],
    ['sync.now', {}],
  ] as const;
  for (const [method, input] of refused) {
    const r = await post(method, input);
    expect(r.status, method).toBe(403);
    expect(r.body.error?.code, method).toBe('FORBIDDEN');
    expect(r.body.error?.message, method).toMatch(/needs the analyst role/);
  }
  // The promotion did not happen, and was refused before its input was even read (no INVALID_INPUT leak).
  expect(appraiser.services.models.list().find((m) => m.id === modelId)?.status).toBe('challenger');
  expect((await post('train', { nonsense: 1 })).body.error?.code).toBe('FORBIDDEN');
  // Any settings method, now or later, needs the analyst role: refusal is the default for unlisted methods.
  expect(requiredRole('settings.set')).toBe('analyst');
  for (const m of methodNames.filter((n) => n.startsWith('settings.'))) expect((await post(m, {})).status).toBe(403);
});

test('an appraiser session may read and list through the same dispatcher', async () => {
  const r = await post('models.list', {});
  expect(r.status).toBe(200);
  expect(r.body.ok).toBe(true);
  expect((await post('history.list', {})).status).toBe(200);
  // Every appraiser method exists in the contract (a rename would otherwise open nothing and close nothing silently).
  for (const m of APPRAISER_METHODS) expect(methodNames).toContain(m);
});

test('the analyst role (the default) may promote, and it is audited', async () => {
  const analyst = await tempAppHost({ jobsInWorkers: false, processName: 'none', sync: { background: false } });
  try {
    const bundled = join(repoRoot, 'models', 'king-county');
    const id = analyst.services.models.importFrom(join(bundled, 'model.onnx'), join(bundled, 'manifest.json')).id;
    const r = await analyst.dispatcher.callSafe('models.promote', { ref: id });
    expect(r.ok).toBe(true);
    expect(analyst.services.audit.all().map((e) => e.action)).toEqual(['model.import', 'model.promote']);
  } finally {
    await analyst.cleanup();
  }
});

test('a host that opens its own workspace writes the audit trail as the OS user with the session role', async () => {
  const { dir, cleanup } = tempDir();
  const host = await createAppHost({ workspace: join(dir, 'ws'), role: 'appraiser', jobsInWorkers: false, processName: 'none', sync: { background: false } });
  try {
    expect(host.services.audit.actor).toBe(`${osActor()} (appraiser)`);
    const page = await host.dispatcher.callSafe('history.list', {});
    expect(page.ok).toBe(true);
  } finally {
    await host.close();
    cleanup();
  }
});

test('appraise serve refuses a role it does not know', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const r = await runCli(['-w', join(dir, 'ws'), 'serve', '--role', 'owner']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--role must be appraiser or analyst/);
  } finally {
    cleanup();
  }
});
