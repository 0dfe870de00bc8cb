import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { enrolDevice, syncDir } from '../core/sync/device-enrolment.js';
import { SyncService } from '../core/sync/sync-service.js';
import { SqliteOutbox } from '../core/sync/sqlite-outbox.js';
import { AUTO_PROMOTE_FILE, recentLocalSales } from '../core/sync/auto-promote.js';
import { kcSalesLines } from './helpers/kc-sales-lines.js';
import { kcConfig, tempServices } from './helpers/temp-workspace.js';
import { startRegistry, type TestRegistry } from './helpers/registry-fixture.js';

/**
 * Issue 12, the device side: a pulled model replaces the champion automatically only when the device's policy
 * allows it and it is not worse than the champion on the device's own recent sales. Real models trained on King
 * County sales, a real registry on 127.0.0.1, real device workspaces whose champion valued later KC sales that
 * were then linked to their prices (the prediction log), and the app's own sync cycle.
 */
type Services = ReturnType<typeof tempServices>;
const { lines, col, isoOf } = kcSalesLines();
const TRAIN = 2000;
const LOCAL = 400;

let reg: TestRegistry;
let publisher: Services;
const all: Services[] = [];
const trained: Record<'mid' | 'good' | 'poor', string> = { mid: '', good: '', poor: '' };
/** Each model's median absolute % error on the devices' local sales, from its own batch-scored output file. */
const mdape: Record<string, number> = {};
let localFile = '';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Scores the local-sales file with `model` in `s` and returns its MdAPE, read from the output file. */
async function mdapeOf(s: Services, model: string, jobId: string): Promise<number> {
  const out = join(s.dir, `${jobId}.csv`);
  await s.valuation.score(model, localFile, out, { jobId });
  const outLines = readFileSync(out, 'utf8').trim().split('\n');
  const h = outLines[0].split(',');
  const price = new Map(lines.slice(1 + TRAIN, 1 + TRAIN + LOCAL).map((l) => [l.split(',')[col('id')], Number(l.split(',')[col('price')])]));
  const apes = outLines.slice(1).map((l) => {
    const f = l.split(',');
    const p = price.get(f[h.indexOf('id')])!;
    return Math.abs(Number(f[h.indexOf('appraise_estimate')]) - p) / p;
  });
  return median(apes);
}

beforeAll(async () => {
  reg = await startRegistry();
  publisher = tempServices();
  all.push(publisher);
  const train = join(publisher.dir, 'train.csv');
  writeFileSync(train, [lines[0], ...lines.slice(1, 1 + TRAIN)].join('\n'));
  localFile = join(publisher.dir, 'local.csv');
  writeFileSync(localFile, [lines[0], ...lines.slice(1 + TRAIN, 1 + TRAIN + LOCAL)].join('\n'));
  const ds = (await publisher.datasets.ingest({ file: train, config: kcConfig() })).datasetId;
  const fit = async (nRounds: number, learningRate: number, seed: number) =>
    (await publisher.training.train({ dataset: ds, folds: 2, params: { nRounds, learningRate }, seed })).modelId;
  trained.mid = await fit(12, 0.2, 1);
  trained.good = await fit(80, 0.15, 2);
  trained.poor = await fit(2, 0.05, 3);
  for (const id of Object.values(trained)) mdape[id] = await mdapeOf(publisher, id, `pub-${id.slice(0, 8)}`);
  // The premise of the tests, checked on the publisher's own scores: good < mid < poor on these sales.
  expect(mdape[trained.good]).toBeLessThan(mdape[trained.mid]);
  expect(mdape[trained.mid]).toBeLessThan(mdape[trained.poor]);
}, 300_000);

afterAll(async () => {
  for (const s of all) await s.cleanup();
  await reg?.close();
});

interface Device {
  s: Services;
  sync: SyncService;
}

/** A device of `region` whose champion is the mid model, with LOCAL sales valued by it and linked to their prices. */
async function device(region: string, policy: Record<string, unknown> | null): Promise<Device> {
  const s = tempServices();
  all.push(s);
  const files = publisher.models.exportTo(trained.mid, join(s.dir, 'mid'));
  s.models.promote(s.models.importFrom(files.onnx, files.manifest).id);
  await s.valuation.score('champion', localFile, join(s.dir, 'valued.csv'), { jobId: 'local' });
  const linked = s.monitoring.recordSales(
    lines.slice(1 + TRAIN, 1 + TRAIN + LOCAL).map((l) => {
      const f = l.split(',');
      return { propertyId: f[col('id')], price: Number(f[col('price')]), saleDate: isoOf(f[col('date')]) };
    }),
  );
  expect(linked.matched).toBeGreaterThan(LOCAL * 0.9);
  await reg.createRepository(region);
  const { code } = await reg.admin.createEnrolmentCode(region, 'stable');
  await enrolDevice(s.workspace.dir, reg.url, code, `laptop in ${region}`);
  if (policy) {
    mkdirSync(syncDir(s.workspace.dir), { recursive: true });
    writeFileSync(join(syncDir(s.workspace.dir), AUTO_PROMOTE_FILE), JSON.stringify(policy));
  }
  const sync = new SyncService({
    workspaceDir: s.workspace.dir,
    outbox: new SqliteOutbox(s.workspace.db),
    models: s.models,
    monitoring: s.monitoring,
    audit: s.audit,
    recentSales: () => recentLocalSales(s.workspace.db),
  });
  return { s, sync };
}

const champion = (d: Device) => d.s.models.list().find((m) => m.status === 'champion')!.id;
const auditOf = (d: Device) => d.s.audit.all().filter((e) => e.action === 'sync.auto-promote');

describe('automatic champion replacement on pull', () => {
  test('a better model, policy on: promoted, with both figures, audited and in the promotion history', async () => {
    const d = await device('north', { enabled: true, marginPct: 0, minSales: 30 });
    await reg.publisher.publishModel('north', 'stable', publisher.models.load(trained.good), reg.publisherKey);
    const cycle = await d.sync.now();
    expect(cycle.ok).toBe(true);
    expect(cycle.pulledModels.map((m) => m.id)).toEqual([trained.good]);
    expect(cycle.autoPromotion).toHaveLength(1);
    const dec = cycle.autoPromotion[0];
    expect(dec).toMatchObject({ modelId: trained.good, championId: trained.mid, promoted: true, reason: 'not-worse' });
    expect(dec.sales).toBeGreaterThanOrEqual(30);
    expect(dec.sales).toBeLessThanOrEqual(LOCAL);
    // The figures agree with each model's own ONNX batch scores on the same sales (trees vs float32 ONNX).
    expect(dec.challengerMdape!).toBeCloseTo(mdape[trained.good], 3);
    expect(dec.championMdape!).toBeCloseTo(mdape[trained.mid], 3);
    expect(dec.message).toMatch(/replaced .* automatically/);
    expect(champion(d)).toBe(trained.good);
    const last = d.s.models.history().changes[0];
    expect(last).toMatchObject({ action: 'promote', modelId: trained.good, previousId: trained.mid });
    expect(last.reason).toMatch(/^auto-promoted on sync/);
    // A person can undo it as any promotion.
    expect(d.s.models.history().rollbackTo?.id).toBe(trained.mid);
    const a = auditOf(d);
    expect(a).toHaveLength(1);
    expect(a[0].ids).toMatchObject({ model: trained.good, champion: trained.mid, decision: 'promoted', reason: 'not-worse' });
    // The Sync page reads the decision from the last cycle.
    expect(d.sync.status().lastCycle?.autoPromotion[0].promoted).toBe(true);
  }, 120_000);

  test('a worse model, policy on: kept waiting as a challenger, and the reason says so', async () => {
    const d = await device('south', { enabled: true, marginPct: 5, minSales: 30 });
    await reg.publisher.publishModel('south', 'stable', publisher.models.load(trained.poor), reg.publisherKey);
    const cycle = await d.sync.now();
    expect(cycle.ok).toBe(true);
    const dec = cycle.autoPromotion[0];
    expect(dec).toMatchObject({ modelId: trained.poor, championId: trained.mid, promoted: false, reason: 'worse' });
    expect(dec.challengerMdape!).toBeCloseTo(mdape[trained.poor], 3);
    expect(dec.championMdape!).toBeCloseTo(mdape[trained.mid], 3);
    expect(dec.message).toMatch(/waits for a person: it is worse than the champion beyond the 5% margin/);
    expect(champion(d)).toBe(trained.mid);
    expect(d.s.models.summary(trained.poor).status).toBe('challenger');
    expect(d.sync.status().waitingChallengers.map((m) => m.id)).toEqual([trained.poor]);
    expect(auditOf(d)[0].ids).toMatchObject({ decision: 'kept-waiting', reason: 'worse' });
  }, 120_000);

  test('a better model with the policy off (no setting: the default): kept waiting, figures still shown', async () => {
    const d = await device('east', null);
    await reg.publisher.publishModel('east', 'stable', publisher.models.load(trained.good), reg.publisherKey);
    const cycle = await d.sync.now();
    const dec = cycle.autoPromotion[0];
    expect(dec).toMatchObject({ modelId: trained.good, promoted: false, reason: 'disabled' });
    expect(dec.challengerMdape!).toBeLessThan(dec.championMdape!);
    expect(dec.message).toMatch(/automatic promotion is off/);
    expect(champion(d)).toBe(trained.mid);
    expect(d.s.models.summary(trained.good).status).toBe('challenger');
  }, 120_000);

  test('too few local sales, policy on: kept waiting; a damaged policy file fails the cycle in words', async () => {
    const d = await device('west', { enabled: true, marginPct: 0, minSales: LOCAL + 1 });
    await reg.publisher.publishModel('west', 'stable', publisher.models.load(trained.good), reg.publisherKey);
    const dec = (await d.sync.now()).autoPromotion[0];
    expect(dec).toMatchObject({ promoted: false, reason: 'too-few-sales', minSales: LOCAL + 1 });
    expect(champion(d)).toBe(trained.mid);

    // A second model arrives while the setting is damaged: nothing is promoted and the cycle says what to fix.
    writeFileSync(join(syncDir(d.s.workspace.dir), AUTO_PROMOTE_FILE), '{"enabled": "yes"}');
    await reg.publisher.publishModel('west', 'stable', publisher.models.load(trained.poor), reg.publisherKey);
    await expect(d.sync.now()).rejects.toMatchObject({
      code: 'BAD_FILE',
      message: expect.stringMatching(/auto-promote\.json is not a valid automatic promotion policy \(enabled:/),
    });
    expect(champion(d)).toBe(trained.mid);
    expect(d.s.models.summary(trained.poor).status).toBe('challenger');
  }, 120_000);
});
