import { test, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrate, migrations, currentVersion, type Migration } from './migrations.js';
import { Workspace } from './workspace.js';
import type { AppraiseError } from '../common/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'appraise-mig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('an older workspace is upgraded in place, keeping its data', () => {
  const path = join(dir, 'old.db');
  const db = new Database(path);
  migrate(db, migrations.slice(0, 1));
  db.prepare(
    `INSERT INTO ingest_runs (id, source_path, config_hash, status, pid, staging_table, started_at) VALUES ('r1', 'f.csv', 'h', 'completed', 1, 's', 'now')`,
  ).run();
  const next: Migration = { version: 2, name: 'add notes', up: (d) => d.exec('ALTER TABLE ingest_runs ADD COLUMN notes TEXT') };
  expect(migrate(db, [...migrations.slice(0, 1), next])).toEqual([2]);
  expect(currentVersion(db)).toBe(2);
  expect(db.prepare('SELECT id, notes FROM ingest_runs').all()).toEqual([{ id: 'r1', notes: null }]);
  db.close();
});

test('a failing migration rolls back completely and leaves the previous version', () => {
  const db = new Database(':memory:');
  migrate(db, migrations.slice(0, 1));
  const broken: Migration = {
    version: 2,
    name: 'broken',
    up: (d) => {
      d.exec('CREATE TABLE half (x)');
      d.exec('THIS IS NOT SQL');
    },
  };
  expect(() => migrate(db, [...migrations.slice(0, 1), broken])).toThrow();
  expect(currentVersion(db)).toBe(1);
  expect(db.prepare(`SELECT COUNT(*) n FROM sqlite_master WHERE name = 'half'`).get()).toEqual({ n: 0 });
});

test('a workspace from a newer Appraise, or a file that is not a database, is refused with a clear error', () => {
  const newer = join(dir, 'newer');
  const w = Workspace.open(newer);
  w.db.pragma('user_version = 999');
  w.close();
  expect(() => Workspace.open(newer)).toThrowError(/newer Appraise/);
  const bogus = join(dir, 'bogus');
  Workspace.open(bogus).close();
  writeFileSync(join(bogus, 'appraise.db'), 'this is not sqlite '.repeat(100));
  try {
    Workspace.open(bogus);
    throw new Error('opened');
  } catch (e) {
    expect((e as AppraiseError).code).toBe('BAD_FILE');
  }
});
