import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { methodNames, type MethodName } from '../../core/contract/contract.js';
import { httpTransport, inProcessTransport, type Transport } from './transports.js';
import { kcConfigPath, kcCsv } from '../helpers/temp-workspace.js';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A well-formed input per method: the malformed cases are made by breaking one field at a time. */
const wellFormed: Record<MethodName, Record<string, unknown>> = {
  'app.info': {},
  'app.loadDemo': {},
  'form.validate': { input: { bedrooms: 3 } },
  'datasets.list': {},
  'datasets.get': { ref: 'abcdef' },
  'datasets.delete': { ref: 'abcdef' },
  'datasets.quarantine': { ref: 'abcdef', limit: 10, offset: 0 },
  'datasets.quality': { ref: 'abcdef' },
  'datasets.ingest': { file: '/tmp/x.csv', config: '/tmp/x.yaml', name: 'x' },
  'models.list': {},
  'models.manifest': { ref: 'champion' },
  'models.promote': { ref: 'abcdef', reason: 'better on the same folds' },
  'models.rollback': { reason: 'x' },
  'models.history': {},
  'models.archive': { ref: 'abcdef' },
  'models.export': { ref: 'abcdef', dir: '/tmp/out' },
  'models.import': { onnx: '/tmp/m.onnx', manifest: '/tmp/m.json' },
  train: { dataset: 'abcdef', folds: 3, foldScheme: 'random', params: { n_rounds: 10 }, name: 'm', seed: 1 },
  value: { model: 'champion', input: { bedrooms: 3 }, valuationDate: '2015-01-01', grid: true },
  'valuation.typical': { model: 'champion' },
  'valuation.grid': {
    model: 'champion',
    input: { bedrooms: 3 },
    valuationDate: '2015-01-01',
    edits: { excluded: [1], added: ['7129300520'], overrides: [{ rowIndex: 1, group: 'location', amount: 1000, reason: 'busy road' }] },
  },
  score: { model: 'champion', source: '/tmp/in.csv', out: '/tmp/out.csv' },
  'batch.inspect': { source: '/tmp/in.csv' },
  'jobs.get': { jobId: 'j1' },
  'jobs.list': {},
  'jobs.cancel': { jobId: 'j1' },
  'history.list': {},
  'history.save': { label: 'x', valuation: {} },
  'history.delete': { id: 'x' },
  'logs.recent': { limit: 5 },
  'monitoring.report': { model: 'champion', since: '2015-01-01', until: '2015-02-01' },
  'monitoring.recordSale': { predictionId: 'p1', price: 500_000, saleDate: '2015-03-01' },
  'monitoring.alerts': { model: 'champion', since: '2015-01-01', limit: 10 },
  'monitoring.checkAlerts': { model: 'champion' },
  'monitoring.acknowledgeAlert': { id: 1, note: 'seen' },
  'monitoring.reviews': { model: 'champion', since: '2015-01-01', status: 'open', limit: 10 },
  'monitoring.recordReview': { predictionId: 'p1', verdict: 'adjust', amount: 510_000, notes: 'view overstated' },
  'monitoring.retrain': { policy: 'ask', since: '2015-01-01', trigger: 'manual', force: true },
  'monitoring.retrainingRuns': { limit: 10 },
  'market.index': { model: 'champion' },
  'sync.status': {},
  'sync.now': {},
  'sync.promotionPolicy': {},
  'sync.enrol': { url: 'http://127.0.0.1:9/', code: 'enr_not-a-real-code', name: 'contract test' },
  'sync.setPromotionPolicy': { policy: { enabled: false, marginPct: 0, minSales: 30 } },
  'reports.settings': {},
  'settings.setReport': { assumptions: 'As described.', certification: 'I certify.', roundTo: 5000, appraiserName: 'J. Doe', appraiserLicence: 'WA-1' },
  'session.status': {},
  'session.lock': {},
  'session.unlock': { passphrase: 'correct horse battery' },
};

/** Malformed variants: wrong top-level shapes, an unknown field, and each field replaced by a wrong type. */
function malformed(method: MethodName): { label: string; input: unknown }[] {
  const base = wellFormed[method];
  const cases: { label: string; input: unknown }[] = [
    { label: 'a number', input: 42 },
    { label: 'a string', input: 'datasets' },
    { label: 'an array', input: [1, 2] },
    { label: 'an unknown field', input: { ...base, notAField: true } },
  ];
  for (const key of Object.keys(base)) {
    cases.push({ label: `${key} as an object`, input: { ...base, [key]: { nested: { deeper: [1] } } } });
    cases.push({ label: `${key} as a huge string`, input: { ...base, [key]: 'x'.repeat(5000) } });
  }
  return cases;
}

for (const make of [inProcessTransport, httpTransport]) {
  describe(`API contract over ${make === inProcessTransport ? 'the in-process dispatcher' : 'the web host (HTTP)'}`, () => {
    let t: Transport;
    beforeAll(async () => {
      t = await make();
    });
    afterAll(async () => {
      await t?.close();
    });

    it('covers every method in the contract with a well-formed sample', () => {
      expect(Object.keys(wellFormed).sort()).toEqual([...methodNames].sort());
    });

    for (const method of methodNames) {
      it(`${method} rejects malformed input with INVALID_INPUT naming the field`, async () => {
        for (const c of malformed(method)) {
          const r = await t.call(method, c.input);
          // A huge string is still a string for free-text fields with no limit hit: those may pass validation.
          if (r.ok || r.error.code !== 'INVALID_INPUT') {
            if (c.label.endsWith('as a huge string')) continue;
            throw new Error(`${method} with ${c.label}: expected INVALID_INPUT, got ${JSON.stringify(r).slice(0, 300)}`);
          }
          expect(r.error.message, `${method} ${c.label}`).toMatch(new RegExp(`^invalid input for ${method.replace('.', '\\.')}: `));
          const details = r.error.details as { issues: { path: string; message: string }[] };
          expect(details.issues.length).toBeGreaterThan(0);
          if (t.name.includes('HTTP')) expect(r.status).toBe(400);
        }
      });
    }

    it('answers an unknown method with NOT_FOUND (404 over HTTP), not a crash', async () => {
      const r = await t.call('datasets.drop_all_tables', {});
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('NOT_FOUND');
      if (t.name.includes('HTTP')) expect(r.status).toBe(404);
    });

    it('answers well-formed calls on an empty workspace with results or typed user errors', async () => {
      expect(await t.call('datasets.list', {})).toMatchObject({ ok: true, result: [] });
      const info = await t.call('app.info', {});
      expect(info).toMatchObject({ ok: true, result: { form: null, champion: null } });
      const missing = await t.call('datasets.get', { ref: 'no-such-dataset' });
      expect(missing).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
      if (t.name.includes('HTTP')) expect(missing.status).toBe(404);
      const noJob = await t.call('jobs.cancel', { jobId: 'nope' });
      expect(noJob).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
      expect(await t.call('monitoring.report', {})).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
      // No champion yet, so no price index to show (the Market page says so).
      expect(await t.call('market.index', {})).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
      expect(await t.call('monitoring.report', { since: 'last week' })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
      expect(await t.call('monitoring.recordSale', { predictionId: 'nope', price: 1 })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
      expect(await t.call('monitoring.alerts', {})).toMatchObject({ ok: true, result: [] });
      // Not enrolled with a registry: the status says so; a sync is a typed error saying how to enrol (409 over HTTP).
      expect(await t.call('sync.status', {})).toMatchObject({ ok: true, result: { enrolled: false, lastCycle: null, outboxDepth: 0 } });
      const sync = await t.call('sync.now', {});
      expect(sync).toMatchObject({ ok: false, error: { code: 'CONFLICT', details: { hint: 'not-enrolled' } } });
      if (t.name.includes('HTTP')) expect(sync.status).toBe(409);
    });

    it('runs an ingest as a job whose failure is a typed error, not a crash', async () => {
      const started = await t.call('datasets.ingest', { file: '/definitely/not/here.csv', config: '/definitely/not/here.yaml' });
      expect(started.ok).toBe(true);
      const { jobId } = (started as { result: { jobId: string } }).result;
      let job: { state: string; error: { code: string } | null } = { state: 'running', error: null };
      for (let i = 0; i < 600 && job.state === 'running'; i++) {
        await new Promise((r) => setTimeout(r, 25));
        job = ((await t.call('jobs.get', { jobId })) as { result: typeof job }).result;
      }
      expect(job.state).toBe('failed');
      expect(job.error?.code).not.toBe('INTERNAL');
    });

    it('cancels a running job: it ends as cancelled with a CANCELLED error and stores nothing', async () => {
      // Ten copies of the King County sales: long enough (seconds) that the cancel arrives mid-ingest.
      const big = join(tmpdir(), `appraise-cancel-${process.pid}-${t.name.length}.csv`);
      const [header, ...rows] = readFileSync(kcCsv, 'utf8').trimEnd().split('\n');
      writeFileSync(big, [header, ...Array.from({ length: 10 }, () => rows.join('\n'))].join('\n') + '\n');
      const started = (await t.call('datasets.ingest', { file: big, config: kcConfigPath, name: 'to-cancel' })) as { ok: true; result: { jobId: string } };
      const { jobId } = started.result;
      const cancelled = await t.call('jobs.cancel', { jobId });
      expect(cancelled.ok).toBe(true);
      let job: { state: string; error: { code: string } | null } = { state: 'running', error: null };
      for (let i = 0; i < 600 && job.state === 'running'; i++) {
        await new Promise((r) => setTimeout(r, 25));
        job = ((await t.call('jobs.get', { jobId })) as { result: typeof job }).result;
      }
      expect(job.state).toBe('cancelled');
      expect(job.error?.code).toBe('CANCELLED');
      const list = (await t.call('datasets.list', {})) as { result: { name: string }[] };
      expect(list.result.map((d) => d.name)).not.toContain('to-cancel');
      rmSync(big, { force: true });
    });
  });
}
