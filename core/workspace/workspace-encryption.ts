import type Database from 'better-sqlite3-multiple-ciphers';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AppraiseError } from '../common/errors.js';
import { fsyncFile } from '../common/fsync-file.js';
import { DATABASE_FILE, openSqlite } from './workspace.js';
import { ArtifactStore } from './artifact-store.js';
import { artifactKeyOf } from '../common/sealed-file.js';
import { KEY_FILE, PENDING_KEY_FILE, isPlainSqliteFile, newKeyFile, readKeyFile, unlockKey, writeKeyFile } from './workspace-key.js';

/** The encrypted copy being built; it only ever replaces the database after it has been verified. */
const STAGING_FILE = 'appraise.db.staging';

export interface EncryptionResult {
  database: string;
  tables: number;
  rows: number;
  /** Artifacts (models, manifests) sealed or re-sealed under the new key. */
  artifacts: number;
}

/** Row count per table: the same on both sides, or the copy is not used. */
export function tableRowCounts(db: Database.Database): Map<string, number> {
  const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
  return new Map(
    names.map((n) => [
      n,
      (db
        .prepare(`SELECT count(*) FROM "${n.replaceAll('"', '""')}"`)
        .pluck()
        .get() as number) ?? 0,
    ]),
  );
}

function sqliteError(e: unknown): AppraiseError {
  if (e instanceof AppraiseError) return e;
  const code = (e as { code?: string }).code ?? '';
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new AppraiseError('CONFLICT', 'the workspace is in use by another Appraise window or command; close it and try again');
  }
  if (code === 'SQLITE_FULL') return new AppraiseError('CONFLICT', 'the disk is full; free some space and try again (nothing was changed)');
  return new AppraiseError('INTERNAL', `workspace copy failed: ${(e as Error).message}`, { cause: e });
}

/**
 * Copies the database at `dbPath` (opened with `fromKey`) to a staging file re-keyed to `toKey`, verifies the
 * copy (integrity check and every table's row count), then moves it and its key file into place. The original is
 * untouched until the final renames, so a crash at any point leaves a workspace that opens (see settleKeyFiles).
 */
function replaceWithRekeyedCopy(dir: string, fromKey: Buffer | null, toKey: Buffer, keyFile: ReturnType<typeof newKeyFile>['file']): EncryptionResult {
  const dbPath = join(dir, DATABASE_FILE);
  const staging = join(dir, STAGING_FILE);
  rmSync(staging, { force: true });
  rmSync(`${staging}-journal`, { force: true });
  let expected: Map<string, number>;
  try {
    const source = openSqlite(dbPath, fromKey);
    try {
      source.pragma('busy_timeout = 5000');
      expected = tableRowCounts(source);
      // VACUUM INTO is a consistent snapshot, written with the source's key (none for a plain database).
      source.prepare('VACUUM INTO ?').run(staging);
    } finally {
      source.close();
    }
    const copy = openSqlite(staging, fromKey);
    try {
      copy.pragma('journal_mode = DELETE'); // SQLite3MultipleCiphers cannot re-key a database in WAL mode
      copy.pragma(`hexrekey='${toKey.toString('hex')}'`);
    } finally {
      copy.close();
    }
    const check = openSqlite(staging, toKey);
    try {
      const integrity = check.pragma('integrity_check', { simple: true });
      const actual = tableRowCounts(check);
      const same = actual.size === expected.size && [...expected].every(([t, n]) => actual.get(t) === n);
      if (integrity !== 'ok' || !same) {
        throw new AppraiseError('INTERNAL', 'the encrypted copy of the workspace did not match the original; nothing was changed');
      }
      check.pragma('journal_mode = WAL');
    } finally {
      check.close();
    }
  } catch (e) {
    rmSync(staging, { force: true });
    throw sqliteError(e);
  }
  fsyncFile(staging);
  const pendingPath = join(dir, PENDING_KEY_FILE);
  writeKeyFile(pendingPath, keyFile);
  // The old database was closed cleanly, so its -wal/-shm are gone; removing strays keeps them off the new file.
  rmSync(`${dbPath}-wal`, { force: true });
  rmSync(`${dbPath}-shm`, { force: true });
  renameSync(staging, dbPath);
  renameSync(pendingPath, join(dir, KEY_FILE));
  fsyncFile(dir);
  return { database: dbPath, tables: expected.size, rows: [...expected.values()].reduce((a, b) => a + b, 0), artifacts: 0 };
}

/** Encrypts a plain workspace with a key derived from `passphrase`; refuses one that is already encrypted. */
export function encryptWorkspace(dir: string, passphrase: string): EncryptionResult {
  const dbPath = join(dir, DATABASE_FILE);
  if (existsSync(join(dir, KEY_FILE))) {
    throw new AppraiseError('CONFLICT', `the workspace at ${dir} is already encrypted; use "appraise workspace rekey" to change its passphrase`);
  }
  if (!existsSync(dbPath)) throw new AppraiseError('NOT_FOUND', `there is no workspace at ${dir} to encrypt; run "appraise init" first`);
  if (!isPlainSqliteFile(dbPath)) throw new AppraiseError('BAD_FILE', `${dbPath} is not a plain Appraise workspace database`);
  const { file, key } = newKeyFile(passphrase);
  const result = replaceWithRekeyedCopy(dir, null, key, file);
  // Plain artifacts stay readable until sealed, so sealing them after the database moved is safe at any point;
  // a crash part-way is finished by the next open (Workspace seals plain artifacts of an encrypted workspace).
  return { ...result, artifacts: new ArtifactStore(join(dir, 'artifacts'), artifactKeyOf(key)).sealPlainArtifacts() };
}

/** Changes the passphrase of an encrypted workspace (a new salt and key; the data is re-encrypted). */
export function rekeyWorkspace(dir: string, oldPassphrase: string, newPassphrase: string): EncryptionResult {
  const keyPath = join(dir, KEY_FILE);
  if (!existsSync(keyPath)) throw new AppraiseError('CONFLICT', `the workspace at ${dir} is not encrypted; use "appraise workspace encrypt" first`);
  const oldKey = unlockKey(oldPassphrase, readKeyFile(keyPath));
  const { file, key } = newKeyFile(newPassphrase);
  // Artifacts are re-sealed into a staging folder first (the live ones still open with the old key); once the
  // database and key file use the new key, the staged files replace them. A crash before the database switch
  // leaves staged files that do not open with the key in use: the next open drops them. A crash after it leaves
  // staged files that do: the next open moves them into place (ArtifactStore.settleRekey).
  const store = new ArtifactStore(join(dir, 'artifacts'), artifactKeyOf(oldKey));
  store.sealPlainArtifacts();
  const staged = store.stageRekey(artifactKeyOf(key));
  const result = replaceWithRekeyedCopy(dir, oldKey, key, file);
  new ArtifactStore(join(dir, 'artifacts'), artifactKeyOf(key)).settleRekey();
  return { ...result, artifacts: staged };
}
