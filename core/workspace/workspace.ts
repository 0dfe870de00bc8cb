import Database from 'better-sqlite3';
import { mkdirSync, existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import envPaths from 'env-paths';
import { AppraiseError } from '../common/errors.js';
import { ArtifactStore } from './artifact-store.js';
import { migrate, currentVersion } from './migrations.js';

export const DATABASE_FILE = 'appraise.db';

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

  private constructor(readonly dir: string) {
    const dbPath = join(dir, DATABASE_FILE);
    try {
      this.db = new Database(dbPath);
    } catch (e) {
      throw new AppraiseError('BAD_FILE', `cannot open workspace database ${dbPath}: ${(e as Error).message}`);
    }
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('cache_size = -65536'); // 64 MiB page cache: bounded, whatever the dataset size
      this.db.pragma('temp_store = FILE');
      this.migrationsApplied = migrate(this.db);
    } catch (e) {
      this.db.close();
      if ((e as { code?: string }).code === 'SQLITE_NOTADB') {
        throw new AppraiseError('BAD_FILE', `${dbPath} is not an Appraise workspace database (file is corrupt or of another kind)`);
      }
      if (e instanceof Error && e.message.includes('newer Appraise')) throw new AppraiseError('CONFLICT', e.message);
      throw e;
    }
    this.artifacts = new ArtifactStore(join(dir, 'artifacts'));
  }

  /** Opens the workspace at `dir`, creating it (and its parents) if needed. */
  static open(dir: string): Workspace {
    if (existsSync(dir) && !statSync(dir).isDirectory()) {
      throw new AppraiseError('INVALID_INPUT', `workspace path ${dir} is a file, not a folder`);
    }
    mkdirSync(dir, { recursive: true });
    return new Workspace(dir);
  }

  get schemaVersion(): number {
    return currentVersion(this.db);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
