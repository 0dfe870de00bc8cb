import { test, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Workspace } from '../workspace/workspace.js';
import { SqlitePredictionLog } from './sqlite-prediction-log.js';
import type { PredictionRecord } from '../valuation/prediction-sink.js';
import type { AppraiseError } from '../common/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'appraise-plog-'));
const ws = Workspace.open(dir);
afterAll(() => {
  ws.close();
  rmSync(dir, { recursive: true, force: true });
});
const log = new SqlitePredictionLog(ws.db);

const record = (over: Partial<PredictionRecord> = {}): PredictionRecord => ({
  modelId: 'm1',
  source: 'value',
  predictedAt: '2026-11-01T10:00:00.000Z',
  valuationDate: '2015-03-01',
  propertyId: 'p1',
  input: { sqft_living: 1800, zipcode: '98103' },
  features: Float32Array.from([1800, NaN, 3]),
  unseen: [1],
  estimate: 500_000,
  interval: { level: 0.8, low: 420_000, high: 590_000 },
  ...over,
});

test('a logged prediction reads back exactly: input, feature vector (NaN kept), unseen features, interval', () => {
  const id = log.record(record());
  const p = log.get(id);
  expect(p.input).toEqual({ sqft_living: 1800, zipcode: '98103' });
  expect([...p.features]).toEqual([1800, NaN, 3]);
  expect(p.unseen).toEqual([1]);
  expect(p.interval).toEqual({ level: 0.8, low: 420_000, high: 590_000 });
  expect(p.salePrice).toBeNull();
  expect(ws.migrationsApplied).toContain(3);
});

test('a sale is linked by prediction id; bad prices and unknown ids are typed errors', () => {
  const id = log.record(record({ propertyId: 'p2' }));
  expect(log.recordSale(id, 510_000, '2015-04-02')).toMatchObject({ salePrice: 510_000, saleDate: '2015-04-02' });
  expect(() => log.recordSale('nope', 1)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }) as AppraiseError);
  expect(() => log.recordSale(id, -5)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }) as AppraiseError);
  expect(() => log.recordSale(id, 5, '04/02/2015')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }) as AppraiseError);
});

test('sales by property id link every prediction still awaiting a sale, in one transaction', () => {
  log.record(record({ propertyId: 'p3', modelId: 'm2' }));
  log.record(record({ propertyId: 'p3', modelId: 'm3' }));
  const r = log.recordSales([
    { propertyId: 'p3', price: 600_000 },
    { propertyId: 'zzz', price: 1 },
  ]);
  expect(r).toEqual({ matched: 1, predictions: 2, unmatched: ['zzz'] });
  // A bad row refuses the whole batch: nothing half-linked.
  const before = ws.db.prepare('SELECT COUNT(*) AS n FROM predictions WHERE sale_price IS NOT NULL').get() as { n: number };
  expect(() =>
    log.recordSales([
      { propertyId: 'p1', price: 1 },
      { propertyId: 'p1', price: Number.NaN },
    ]),
  ).toThrow(/positive number/);
  expect(ws.db.prepare('SELECT COUNT(*) AS n FROM predictions WHERE sale_price IS NOT NULL').get()).toEqual(before);
});

test('scan filters by model and window, oldest first; retention prunes by age and by row count', () => {
  const l = new SqlitePredictionLog(ws.db);
  for (let i = 0; i < 5; i++) l.record(record({ modelId: 'win', predictedAt: `2026-11-0${i + 1}T00:00:00.000Z`, estimate: i + 1 }));
  const seen: number[] = [];
  expect(l.scan({ modelId: 'win', since: '2026-11-02T00:00:00.000Z', until: '2026-11-05T00:00:00.000Z' }, (r) => seen.push(r.estimate))).toBe(3);
  expect(seen).toEqual([2, 3, 4]);
  const total = () => (ws.db.prepare('SELECT COUNT(*) AS n FROM predictions').get() as { n: number }).n;
  const n0 = total();
  // 30 days before 2026-12-03 is 2026-11-03: the two oldest "win" rows and every 2026-11-01 row go.
  const pruned = l.prune({ days: 30, maxRows: 1_000_000 }, new Date('2026-12-03T00:00:00.000Z'));
  expect(l.count({ modelId: 'win' })).toBe(3);
  expect(total()).toBe(n0 - pruned);
  l.prune({ days: 10_000, maxRows: 2 }, new Date('2026-12-03T00:00:00.000Z'));
  expect(total()).toBe(2);
  expect(l.scan({ modelId: 'win' }, () => {})).toBe(2); // the newest two are kept
});
