import { test, expect } from 'vitest';
import Database from 'better-sqlite3';
import { migrate } from '../workspace/migrations.js';
import { SqliteValuationHistory } from './sqlite-valuation-history.js';
import type { Valuation } from './valuation-schemas.js';

const valuation = (modelId: string, input: Record<string, string>, estimate: number): Valuation => ({
  modelId,
  valuationDate: null,
  estimate,
  interval: { level: 0.8, low: estimate * 0.9, high: estimate * 1.1 },
  intervals: [],
  baseValue: estimate,
  contributions: [],
  comparables: [],
  warnings: [],
  input,
});

test('saved valuations come back newest first, survive reopening, and can be deleted', () => {
  const db = new Database(':memory:');
  migrate(db);
  const h = new SqliteValuationHistory(db);
  const a = h.save('first', valuation('m1', { zipcode: '98125' }, 500000));
  const b = h.save('second', valuation('m1', { zipcode: '98103' }, 700000));
  expect(h.list().map((e) => e.label)).toEqual(['second', 'first']);
  expect(h.list()[0].valuation.estimate).toBe(700000);
  expect(new SqliteValuationHistory(db).list().map((e) => e.id)).toEqual([b.id, a.id]);
  expect(h.delete(a.id)).toBe(true);
  expect(h.delete(a.id)).toBe(false);
  expect(h.list().map((e) => e.id)).toEqual([b.id]);
});
