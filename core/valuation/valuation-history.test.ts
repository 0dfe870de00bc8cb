import { test, expect } from 'vitest';
import Database from 'better-sqlite3';
import { migrate } from '../workspace/migrations.js';
import { SqliteValuationHistory } from './valuation-history.js';

test('saved valuations come back newest first, survive reopening, and can be deleted', () => {
  const db = new Database(':memory:');
  migrate(db);
  const h = new SqliteValuationHistory<{ modelId: string; input: Record<string, string>; estimate: number }>(db);
  const a = h.save('first', { modelId: 'm1', input: { zipcode: '98125' }, estimate: 500000 });
  const b = h.save('second', { modelId: 'm1', input: { zipcode: '98103' }, estimate: 700000 });
  expect(h.list().map((e) => e.label)).toEqual(['second', 'first']);
  expect(h.list()[0].valuation.estimate).toBe(700000);
  expect(new SqliteValuationHistory(db).list().map((e) => e.id)).toEqual([b.id, a.id]);
  expect(h.delete(a.id)).toBe(true);
  expect(h.delete(a.id)).toBe(false);
  expect(h.list().map((e) => e.id)).toEqual([b.id]);
});
