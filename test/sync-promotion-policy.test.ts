import { afterAll, beforeAll, expect, test } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../core/config/load-config.js';
import { createAppHost, type AppHost } from '../core/app/app-host.js';
import { AUTO_PROMOTE_FILE } from '../core/sync/auto-promote.js';
import { enrolDevice, syncDir } from '../core/sync/device-enrolment.js';
import type { PromotionPolicy, SyncCycle } from '../core/sync/sync-schemas.js';
import type { ModelService } from '../core/models/model-service.js';
import { importVariant, startRegistry, type TestRegistry } from './helpers/registry-fixture.js';
import { kcConfigPath, repoRoot, tempServices } from './helpers/temp-workspace.js';

// The automatic promotion policy as the YAML's `sync.autoPromote` and as the workspace setting the Sync page edits:
// a real registry on 127.0.0.1, real app hosts, every call through the dispatcher as the window makes it. The
// cycle's decisions show which policy it applied (its minSales and margin travel in each decision).

type Services = ReturnType<typeof tempServices>;
let reg: TestRegistry;
let publisher: Services;
const cleanups: (() => Promise<void>)[] = [];

const kcYaml = readFileSync(kcConfigPath, 'utf8');
const withSync = (section: string) => `${kcYaml.trimEnd()}\n${section}`;

/** The bundled model with `sync.autoPromote` set in its YAML (the config it carries in its manifest). */
function importWithPolicy(models: ModelService, scratch: string, policy: Record<string, unknown>) {
  const dir = join(scratch, 'with-policy');
  mkdirSync(dir, { recursive: true });
  const demo = join(repoRoot, 'models', 'king-county');
  const manifest = JSON.parse(readFileSync(join(demo, 'manifest.json'), 'utf8')) as { datasetConfig: Record<string, unknown>; modelId?: string; name: string };
  delete manifest.modelId;
  manifest.name = 'org champion';
  manifest.datasetConfig.sync = { autoPromote: policy };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  writeFileSync(join(dir, 'model.onnx'), readFileSync(join(demo, 'model.onnx')));
  writeFileSync(join(dir, 'ensemble.json'), readFileSync(join(demo, 'ensemble.json')));
  return models.importFrom(join(dir, 'model.onnx'), join(dir, 'manifest.json'));
}

async function host(region: string, role?: 'appraiser') {
  const services = tempServices();
  const champion = importWithPolicy(services.models, services.dir, { enabled: true, marginPct: 3, minSales: 12 });
  services.models.promote(champion.id);
  const { code } = await reg.admin.createEnrolmentCode(region, 'stable');
  await enrolDevice(services.workspace.dir, reg.url, code, `laptop in ${region}`);
  const h = await createAppHost({ services, validateOutput: true, processName: 'none', jobsInWorkers: false, sync: { background: false }, role });
  cleanups.push(async () => {
    await h.close();
    await services.cleanup();
  });
  return { h, services, champion: champion.id };
}

async function call<T>(h: AppHost, method: string, input: unknown = {}): Promise<T> {
  const r = await h.dispatcher.callSafe(method, input);
  if (!r.ok) throw Object.assign(new Error(r.error.message), r.error);
  return r.result as T;
}

beforeAll(async () => {
  reg = await startRegistry();
  publisher = tempServices();
});
afterAll(async () => {
  for (const c of cleanups) await c();
  await publisher?.cleanup();
  await reg?.close();
});

test('the YAML takes sync.autoPromote, validated with the line and path of a mistake', () => {
  const loaded = parseConfig(withSync('sync:\n  autoPromote: { enabled: true, marginPct: 2.5 }\n'), 'kc.yaml');
  expect(loaded.config.sync).toEqual({ autoPromote: { enabled: true, marginPct: 2.5, minSales: 30 } });
  // Without the section there is none (and nothing is added to the config's hash).
  expect(parseConfig(kcYaml, 'kc.yaml').config.sync).toBeUndefined();
  const lineOf = kcYaml.trimEnd().split('\n').length + 3;
  expect(() => parseConfig(withSync('sync:\n  autoPromote:\n    marginPct: 500\n'), 'kc.yaml')).toThrow(
    new RegExp(`line ${lineOf}: sync\\.autoPromote\\.marginPct`),
  );
  expect(() => parseConfig(withSync('sync:\n  autopromote: { enabled: true }\n'), 'kc.yaml')).toThrow(/sync/);
});

test('a cycle applies the champion YAML policy until the analyst sets one on the Sync page; the change is audited and an appraiser cannot make it', async () => {
  await reg.createRepository('policy');
  const { h, services, champion } = await host('policy');
  const fresh = () => importVariant(publisher.models, publisher.dir, 10 + publisher.models.list().length);

  // Nothing set on the device: the champion's YAML applies.
  expect(await call<PromotionPolicy>(h, 'sync.promotionPolicy')).toEqual({
    enabled: true,
    marginPct: 3,
    minSales: 12,
    source: 'config',
    configName: 'king-county',
    error: null,
  });
  await reg.publisher.publishModel('policy', 'stable', publisher.models.load(fresh().id), reg.publisherKey);
  const first = await call<SyncCycle>(h, 'sync.now');
  // On: it would compare, but the device has no sales with prices yet.
  expect(first.autoPromotion).toEqual([expect.objectContaining({ promoted: false, reason: 'too-few-sales', minSales: 12, marginPct: 3 })]);

  // The analyst turns it off on this device.
  const before = services.audit.all().length;
  const set = await call<PromotionPolicy>(h, 'sync.setPromotionPolicy', { policy: { enabled: false, marginPct: 1, minSales: 50 } });
  expect(set).toEqual({ enabled: false, marginPct: 1, minSales: 50, source: 'workspace', configName: null, error: null });
  const entries = services.audit.all().slice(before);
  expect(entries).toEqual([
    expect.objectContaining({
      action: 'settings.change',
      outcome: 'ok',
      ids: expect.objectContaining({ setting: 'sync.autoPromote', enabled: 'false', minSales: 50 }),
    }),
  ]);
  expect(JSON.parse(readFileSync(join(syncDir(services.workspace.dir), AUTO_PROMOTE_FILE), 'utf8'))).toEqual({ enabled: false, marginPct: 1, minSales: 50 });
  await reg.publisher.publishModel('policy', 'stable', publisher.models.load(fresh().id), reg.publisherKey);
  const second = await call<SyncCycle>(h, 'sync.now');
  expect(second.autoPromotion).toEqual([expect.objectContaining({ promoted: false, reason: 'disabled', minSales: 50, marginPct: 1 })]);
  expect(services.models.list().find((m) => m.status === 'champion')?.id).toBe(champion);

  // Bad values are refused with the field named, and change nothing.
  const bad = await h.dispatcher.callSafe('sync.setPromotionPolicy', { policy: { enabled: true, marginPct: 500, minSales: 30 } });
  expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', message: expect.stringMatching(/marginPct/) } });
  expect((await call<PromotionPolicy>(h, 'sync.promotionPolicy')).marginPct).toBe(1);

  // A damaged setting file is shown in words (the cycle would fail with BAD_FILE); saving a good one mends it.
  writeFileSync(join(syncDir(services.workspace.dir), AUTO_PROMOTE_FILE), '{"enabled": "yes"}');
  expect(await call<PromotionPolicy>(h, 'sync.promotionPolicy')).toMatchObject({ source: 'workspace', error: expect.stringMatching(/enabled/) });
  // Removing the device's setting: the YAML applies again.
  expect(await call<PromotionPolicy>(h, 'sync.setPromotionPolicy', { policy: null })).toMatchObject({ source: 'config', enabled: true, minSales: 12 });
  expect(existsSync(join(syncDir(services.workspace.dir), AUTO_PROMOTE_FILE))).toBe(false);

  // An appraiser session reads the policy but cannot change it.
  const { h: appraiser, services: appraiserWs } = await host('policy', 'appraiser');
  expect((await call<PromotionPolicy>(appraiser, 'sync.promotionPolicy')).source).toBe('config');
  const refused = await appraiser.dispatcher.callSafe('sync.setPromotionPolicy', { policy: { enabled: false, marginPct: 0, minSales: 30 } });
  expect(refused).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  expect(existsSync(join(syncDir(appraiserWs.workspace.dir), AUTO_PROMOTE_FILE))).toBe(false);
});
