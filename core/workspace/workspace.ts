import Database from 'better-sqlite3-multiple-ciphers';
import { mkdirSync, existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import envPaths from 'env-paths';
import { AppraiseError } from '../common/errors.js';
import { ArtifactStore } from './artifact-store.js';
import { artifactKeyOf } from '../common/sealed-file.js';
import { migrate, currentVersion } from './migrations.js';
import {
  KEY_FILE,
  PENDING_KEY_FILE,
  isPlainSqliteFile,
  passphraseFromEnv,
  readKeyFile,
  settleKeyFiles,
  sqliteKeyPragma,
  unlockKey,
  unlockWithKey,
} from './workspace-key.js';

export const DATABASE_FILE = 'appraise.db';

export interface WorkspaceOpenOptions {
  /** The passphrase of an encrypted workspace; default `APPRAISE_WORKSPACE_KEY`. Ignored for a plain workspace. */
  passphrase?: string;
  /**
   * The workspace's derived key itself, as a KeyCustody keeps it (core/workspace/key-custody.ts; the desktop app's
   * is wrapped by the OS keychain). Checked against the key file like a passphrase; wins over `passphrase`.
   */
  key?: Buffer;
}

/** Opens a SQLite file with the derived key (or none), failing if the key does not decrypt it. */
export function openSqlite(path: string, key: Buffer | null): Database.Database {
  const db = new Database(path);
  try {
    if (key) db.pragma(sqliteKeyPragma(key));
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

function opensWith(path: string, key: Buffer): boolean {
  try {
    openSqlite(path, key).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * The derived database key for the workspace in `dir`, or null when it is not encrypted. Refuses (LOCKED) an
 * encrypted workspace without its passphrase instead of letting SQLite create or misread anything.
 */
export function workspaceKey(dir: string, passphrase: string | undefined, key?: Buffer): Buffer | null {
  const dbPath = join(dir, DATABASE_FILE);
  settleKeyFiles(dir, passphrase, (key) => opensWith(dbPath, key));
  const keyPath = join(dir, KEY_FILE);
  const locked = new AppraiseError(
    'LOCKED',
    `the workspace at ${dir} is encrypted; give its passphrase (APPRAISE_WORKSPACE_KEY, or --passphrase-file on the command line)`,
  );
  // An encrypt interrupted after the database moved: only the passphrase can tell which key file is right.
  if (passphrase === undefined && existsSync(join(dir, PENDING_KEY_FILE))) throw locked;
  if (!existsSync(keyPath)) {
    if (existsSync(dbPath) && statSync(dbPath).size > 0 && !isPlainSqliteFile(dbPath)) {
      throw new AppraiseError('BAD_FILE', `${dbPath} is encrypted or damaged, and its key file ${KEY_FILE} is missing; restore the workspace from a backup`);
    }
    return null;
  }
  const keyFile = readKeyFile(keyPath);
  if (!existsSync(dbPath)) {
    throw new AppraiseError('BAD_FILE', `the encrypted workspace at ${dir} has lost its database file ${DATABASE_FILE}; restore it from a backup`);
  }
  if (key) return unlockWithKey(key, keyFile);
  if (passphrase === undefined) throw locked;
  return unlockKey(passphrase, keyFile);
}

/** Where the workspace lives: `--workspace DIR`, else `APPRAISE_WORKSPACE`, else the OS user-data folder. */
export function resolveWorkspaceDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return resolve(explicit);
  if (env.APPRAISE_WORKSPACE) return resolve(env.APPRAISE_WORKSPACE);
  return join(envPaths('appraise', { suffix: '' }).data, 'workspace');
}

/**
 * One workspace: a SQLite database in WAL mode plus a content-addressed artifact folder.
 * The Workspace owns the database handle; `close()` releases it. Opening runs pending migrations and cleans up
 * after any ingest that was killed half-way.
 */
export class Workspace {
  readonly db: Database.Database;
  readonly artifacts: ArtifactStore;
  readonly migrationsApplied: number[];
  /** True when the database is encrypted at rest (a key file sits next to it). */
  readonly encrypted: boolean;

  /**
   * A second connection to the workspace database, with the same driver and key: a batch export writes its table
   * while a cursor on the first connection streams the source rows. (A second SQLite library on the same file
   * would not share its file locks, which SQLite documents as a way to corrupt it.)
   */
  openConnection(): Database.Database {
    const db = openSqlite(join(this.dir, DATABASE_FILE), this.key);
    db.pragma('busy_timeout = 5000');
    return db;
  }

  private constructor(
    readonly dir: string,
    private readonly key: Buffer | null,
  ) {
    const dbPath = join(dir, DATABASE_FILE);
    this.encrypted = key !== null;
    try {
      this.db = new Database(dbPath);
    } catch (e) {
      throw new AppraiseError('BAD_FILE', `cannot open workspace database ${dbPath}: ${(e as Error).message}`);
    }
    try {
      // The key comes before any read; SQLite3MultipleCiphers encrypts the WAL with the same key.
      if (key) this.db.pragma(sqliteKeyPragma(key));
      // The busy timeout comes first: switching a new file to WAL takes a lock another process may hold.
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
      this.db.pragma('cache_size = -65536'); // 64 MiB page cache: bounded, whatever the dataset size
      this.db.pragma('temp_store = FILE');
      this.migrationsApplied = migrate(this.db);
    } catch (e) {
      this.db.close();
      if ((e as { code?: string }).code === 'SQLITE_NOTADB') {
        if (key) {
          throw new AppraiseError(
            'BAD_FILE',
            `${dbPath} does not open with this workspace's key although the passphrase is right: the file is damaged; restore it from a backup`,
          );
        }
        throw new AppraiseError('BAD_FILE', `${dbPath} is not an Appraise workspace database (file is corrupt or of another kind)`);
      }
      if (e instanceof Error && e.message.includes('newer Appraise')) throw new AppraiseError('CONFLICT', e.message);
      throw e;
    }
    // Artifacts are sealed with a key derived from the database key (AES-256-GCM). A key rotation a crash
    // interrupted is finished first; artifacts still plain from before encryption are then sealed in place.
    this.artifacts = new ArtifactStore(join(dir, 'artifacts'), key ? artifactKeyOf(key) : null);
    if (key) {
      this.artifacts.settleRekey();
      this.artifacts.sealPlainArtifacts();
    }
  }

  /** Opens the workspace at `dir`, creating it (and its parents) if needed; an encrypted one needs its passphrase. */
  static open(dir: string, options: WorkspaceOpenOptions = {}): Workspace {
    if (existsSync(dir) && !statSync(dir).isDirectory()) {
      throw new AppraiseError('INVALID_INPUT', `workspace path ${dir} is a file, not a folder`);
    }
    mkdirSync(dir, { recursive: true });
    return new Workspace(dir, workspaceKey(dir, options.passphrase ?? passphraseFromEnv(), options.key));
  }

  get schemaVersion(): number {
    return currentVersion(this.db);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
