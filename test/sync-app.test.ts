import { afterAll, beforeAll, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { enrolDevice } from '../core/sync/device-enrolment.js';
import { packBundle } from '../core/sync/model-bundle.js';
import { seal } from '../core/sync/sealed-box.js';
import type { SyncCycle, SyncStatus } from '../core/sync/sync-schemas.js';
import type { ApiResponse } from '../core/contract/api-response.js';
import { reportDetailSchema, reportListSchema } from '../registry/registry-schemas.js';
import { importVariant, startRegistry, type TestRegistry } from './helpers/registry-fixture.js';
import { kcCsv, tempServices } from './helpers/temp-workspace.js';
import { createAppHost, type AppHost, type AppHostOptions } from '../core/app/app-host.js';

// Sync inside the app: a real registry on 127.0.0.1, real app hosts on real workspaces, every call through the
// dispatcher as the window makes it. Each device has a champion of its own, which must never move.

type Host = AppHost & { dir: string; cleanup: () => Promise<void> };
let reg: TestRegistry;
let publisher: ReturnType<typeof tempServices>;
const hosts: Host[] = [];
const published: { id: string; name: string }[] = [];

/** One King County sale as the valuation form would send it: the model schema's columns but price and date, as text. */
function sampleHouse(host: Host, model: string): Record<string, string> {
  const columns = Object.keys(host.services.models.manifest(model).datasetConfig.dataset.columns);
  const [header, row] = readFileSync(kcCsv, 'utf8').split('\n', 2);
  const values = row.split(',');
  return Object.fromEntries(
    header
      .split(',')
      .map((n, i) => [n, values[i]])
      .filter(([n]) => columns.includes(n) && n !== 'price' && n !== 'date'),
  );
}

async function call<T>(host: Host, method: string, input: unknown = {}): Promise<T> {
  const r = await host.dispatcher.callSafe(method, input);
  if (!r.ok) throw Object.assign(new Error(r.error.message), r.error);
  return r.result as T;
}
const answer = (host: Host, method: string): Promise<ApiResponse> => host.dispatcher.callSafe(method, {});

/** An app host on a workspace with its own champion (variant 0 of the bundled model); enrolled in `region` if given. */
async function device(region: string | null, sync: AppHostOptions['sync'] = { background: false }) {
  const services = tempServices();
  const champion = importVariant(services.models, services.dir, 0).id;
  services.models.promote(champion);
  if (region) {
    const { code } = await reg.admin.createEnrolmentCode(region, 'stable');
    await enrolDevice(services.workspace.dir, reg.url, code, `laptop in ${region}`);
  }
  // Enrolled before the host starts, as after a restart of the app: the host decides whether to sync in the background.
  const host = await createAppHost({ services, validateOutput: true, processName: 'none', jobsInWorkers: false, sync });
  const h: Host = Object.assign(host, {
    dir: services.dir,
    cleanup: async () => {
      await host.close();
      await services.cleanup();
    },
  });
  hosts.push(h);
  return { host: h, champion };
}

const championOf = (host: Host) => host.services.models.list().find((m) => m.status === 'champion')?.id;
const reportsOf = async (deviceId: string) =>
  (await reg.admin.call('GET', '/admin/reports', undefined, reportListSchema)).reports.filter((r) => r.deviceId === deviceId);

beforeAll(async () => {
  reg = await startRegistry();
  await reg.createRepository('north');
  await reg.createRepository('west');
  publisher = tempServices();
  for (let v = 1; v <= 3; v++) published.push(importVariant(publisher.models, publisher.dir, v));
});

afterAll(async () => {
  for (const h of hosts) await h.cleanup();
  await publisher?.cleanup();
  await reg?.close();
});

test('a workspace that is not enrolled says so and how to enrol; sync.now answers a typed error, not a crash', async () => {
  const { host } = await device(null);
  const status = await call<SyncStatus>(host, 'sync.status');
  expect(status).toMatchObject({ enrolled: false, registryUrl: null, region: null, lastCycle: null, outboxDepth: 0, nextCycleAt: null });
  expect(status.howToEnrol).toMatch(/appraise sync enrol --url .* --code .* --name /);
  const now = await answer(host, 'sync.now');
  expect(now).toMatchObject({ ok: false, error: { code: 'CONFLICT', details: { hint: 'not-enrolled' } } });
  expect(now.ok === false && now.error.message).toMatch(/not linked to a registry.*appraise sync enrol/);
});

test('sync.now pulls a published model as a challenger (champion unchanged) and pushes the period report exactly once', async () => {
  const { host, champion } = await device('north');
  const before = await call<SyncStatus>(host, 'sync.status');
  expect(before).toMatchObject({ enrolled: true, registryUrl: reg.url, region: 'north', channel: 'stable', howToEnrol: null, lastCycle: null });
  expect(before.deviceId).toMatch(/^device_/);
  await reg.publisher.publishModel('north', 'stable', publisher.models.load(published[0].id), reg.publisherKey);

  const first = await call<SyncCycle>(host, 'sync.now');
  expect(first).toMatchObject({
    ok: true,
    trigger: 'manual',
    pulled: 1,
    pulledModels: [{ id: published[0].id, name: published[0].name }],
    refused: [],
    queued: 1,
    pushed: 1,
    error: null,
  });
  expect(host.services.models.summary(published[0].id).status).toBe('challenger');
  expect(championOf(host)).toBe(champion);
  expect(host.services.models.load(published[0].id).onnx.equals(publisher.models.load(published[0].id).onnx)).toBe(true);

  // The registry holds the report, signed by this device, of the champion over the last finished week.
  const stored = await reportsOf(before.deviceId!);
  expect(stored).toHaveLength(1);
  const detail = await reg.admin.call('GET', `/admin/reports/${stored[0].id}`, undefined, reportDetailSchema);
  const body = detail.report as { kind: string; payload: { period: { label: string; since: string; until: string }; report: { model: { id: string } } } };
  expect(body.kind).toBe('monitoring-report');
  expect(body.payload.report.model.id).toBe(champion);
  expect(body.payload.period.label).toMatch(/^\d{4}-W\d{2}$/);
  expect(Date.parse(body.payload.period.until)).toBeLessThanOrEqual(Date.now());
  expect(Date.parse(body.payload.period.until) - Date.parse(body.payload.period.since)).toBe(7 * 86_400_000);

  // A second cycle: nothing new to pull, the period's report is not queued or sent again.
  const second = await call<SyncCycle>(host, 'sync.now');
  expect(second).toMatchObject({ ok: true, pulled: 0, queued: 0, pushed: 0 });
  expect(await reportsOf(before.deviceId!)).toHaveLength(1);

  const after = await call<SyncStatus>(host, 'sync.status');
  expect(after).toMatchObject({ outboxDepth: 0, running: false, lastCycle: { ok: true, pulled: 0 } });
  expect(after.lastSuccessAt).toBe(second.finishedAt);
  // The page's notice: the pulled model waits as a challenger for a person to promote it.
  expect(after.waitingChallengers).toEqual([expect.objectContaining({ id: published[0].id, name: published[0].name })]);
  expect(after.trust).toMatchObject({ rootVersion: 1, targetsVersion: 1 });
  // Promoted by a person: no longer waiting.
  await call(host, 'models.promote', { ref: published[0].id });
  expect((await call<SyncStatus>(host, 'sync.status')).waitingChallengers).toEqual([]);
});

test('two sync.now at once run one cycle: the second joins the first', async () => {
  const { host } = await device('north');
  const [a, b] = await Promise.all([call<SyncCycle>(host, 'sync.now'), call<SyncCycle>(host, 'sync.now')]);
  expect(a).toEqual(b);
  expect(a.pushed).toBe(1);
  const status = await call<SyncStatus>(host, 'sync.status');
  expect(await reportsOf(status.deviceId!)).toHaveLength(1);
});

test('a tampered bundle is refused with its reason in words; nothing is imported and the champion keeps serving', async () => {
  const { host, champion } = await device('west');
  const regionKey = await reg.publisher.regionPublicKey('west', 'stable');
  const box = seal(packBundle(publisher.models.load(published[1].id)), regionKey);
  const ct = Buffer.from(box.ciphertext, 'base64');
  ct[ct.length >> 1] ^= 0x01;
  await reg.publisher.publishBytes(
    'west',
    'stable',
    { modelId: published[1].id, name: 'tampered' },
    Buffer.from(JSON.stringify({ ...box, ciphertext: ct.toString('base64') })),
    reg.publisherKey,
  );
  const cycle = await call<SyncCycle>(host, 'sync.now');
  expect(cycle).toMatchObject({ ok: true, pulled: 0, refused: [{ target: `models/${published[1].id}.bundle`, reason: 'decrypt-failed' }] });
  expect(cycle.refused[0].message).toMatch(/could not be decrypted/);
  expect(host.services.models.list().map((m) => m.id)).toEqual([champion]);
  expect(championOf(host)).toBe(champion);
  const valuation = await call<{ modelId: string; estimate: number }>(host, 'value', { input: sampleHouse(host, champion), valuationDate: '2015-01-01' });
  expect(valuation.modelId).toBe(champion);
  expect(valuation.estimate).toBeGreaterThan(0);
  expect((await call<SyncStatus>(host, 'sync.status')).lastCycle?.refused).toHaveLength(1);
});

test('the background cycle runs by itself on an enrolled workspace, again every interval, and stops with close()', async () => {
  const { host } = await device('north', { intervalMs: 300, firstDelayMs: 0 });
  const deviceId = host.sync.status().deviceId!;
  const seen = new Set<string>();
  const started = Date.now();
  while (seen.size < 3 && Date.now() - started < 30_000) {
    const last = host.sync.status().lastCycle;
    if (last) seen.add(last.at);
    await new Promise((r) => setTimeout(r, 40));
  }
  // Three background cycles, none started by a call: the first pulled the model and sent the report, once.
  expect(seen.size).toBe(3);
  const status = await call<SyncStatus>(host, 'sync.status');
  expect(status.lastCycle).toMatchObject({ trigger: 'background', ok: true });
  expect(status.waitingChallengers.map((m) => m.id)).toEqual([published[0].id]);
  expect(await reportsOf(deviceId)).toHaveLength(1);

  await host.close();
  const stopped = host.sync.status();
  expect(stopped.nextCycleAt).toBeNull();
  expect(stopped.running).toBe(false);
  await new Promise((r) => setTimeout(r, 900));
  expect(host.sync.status().lastCycle?.at).toBe(stopped.lastCycle?.at);
});

test('after a success the next background cycle is an interval away; sync.now during it keeps one timer', async () => {
  const { host } = await device('north', { intervalMs: 60_000, firstDelayMs: 3_600_000 });
  const idle = host.sync.status();
  // Not yet run: the first cycle waits for its first delay.
  expect(Date.parse(idle.nextCycleAt!) - Date.now()).toBeGreaterThan(3_500_000);
  const cycle = await call<SyncCycle>(host, 'sync.now');
  const next = Date.parse(host.sync.status().nextCycleAt!) - Date.parse(cycle.finishedAt);
  // 60 s ± 10 % jitter.
  expect(next).toBeGreaterThanOrEqual(54_000 - 50);
  expect(next).toBeLessThanOrEqual(66_000 + 50);
});

test('registry stopped: sync.now answers OFFLINE in words, status shows the failure and the outbox keeps the report', async () => {
  const { host, champion } = await device('north');
  await reg.registry.close();
  const r = await answer(host, 'sync.now');
  expect(r).toMatchObject({ ok: false, error: { code: 'OFFLINE' } });
  expect(r.ok === false && r.error.message).toMatch(
    /Cannot reach the registry at http:\/\/127\.0\.0\.1:\d+: this computer may be offline.*1 report waits in the outbox/,
  );
  const status = await call<SyncStatus>(host, 'sync.status');
  expect(status).toMatchObject({ enrolled: true, outboxDepth: 1, lastSuccessAt: null, lastCycle: { ok: false, errorCode: 'OFFLINE', queued: 1, pushed: 0 } });
  expect(status.lastCycle?.error).toMatch(/offline/);
  expect(championOf(host)).toBe(champion);
  // A second try while still offline queues nothing new and loses nothing.
  expect(await answer(host, 'sync.now')).toMatchObject({ ok: false, error: { code: 'OFFLINE' } });
  expect((await call<SyncStatus>(host, 'sync.status')).outboxDepth).toBe(1);
});
