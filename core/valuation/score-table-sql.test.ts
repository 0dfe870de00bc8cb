import { expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { migrate } from '../workspace/migrations.js';
import { scoreTableSql } from './score-to-file.js';

test('hostile column names from an imported schema stay column names: no SQL runs from them (issue 14, finding 1)', () => {
  const db = new Database(':memory:');
  migrate(db);
  const hostile = ['row', 'x", "y"); DROP TABLE valuations; --', 'a"b', 'estimate'];
  const sql = scoreTableSql('scores_t', hostile);
  db.exec(sql.create);
  db.prepare(sql.insert).run(1, 'v', 'w', 500000);
  // The valuations table is still there and the score table has exactly the four columns, named as given.
  expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'valuations'").get()).toBeTruthy();
  expect((db.prepare('PRAGMA table_info(scores_t)').all() as { name: string }[]).map((c) => c.name)).toEqual(hostile);
  expect(db.prepare('SELECT * FROM scores_t').raw(true).get()).toEqual([1, 'v', 'w', 500000]);
});
