import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { AppraiseError } from './errors.js';

/**
 * Which files the API may read and write (issue 14, finding 5). The launch token of the web host opened the whole
 * filesystem: `datasets.ingest` read /etc/passwd, `models.export` and `score` wrote anywhere. A confined process
 * (the web host) reads and writes only inside the folders chosen at start (`appraise serve --allow-dir DIR`);
 * the CLI and the desktop app, where the user picks every file themselves, are unconfined.
 *
 * Paths are compared after resolving symbolic links (of the file itself, or of its nearest existing folder for a
 * file still to be created), so a link inside an allowed folder cannot point out of it. The check is made when the
 * path is used, not atomically with the open: a local user who can swap links between the two could still race
 * it; the threat here is a caller of the API, who cannot.
 *
 * One policy per process (`fileAccess()`): the services, job threads and helpers that take paths from the API
 * ask it. Job threads get their owner's policy through their start data (`toJSON` / `FileAccess.from`).
 */
export interface FileAccessPolicy {
  /** Folders reads may come from (besides `writeDirs`). Null: unconfined. */
  readDirs: string[] | null;
  /** Folders writes may go to (and reads come from). Null: unconfined. */
  writeDirs: string[] | null;
  /** Folders never written to even when inside an allowed one (the workspace's own database and artifacts). */
  protectedDirs: string[];
  /** How the user widens the policy, for messages ("restart with appraise serve --allow-dir DIR"). */
  howToAllow: string;
}

export class FileAccess {
  static readonly unconfined = new FileAccess({ readDirs: null, writeDirs: null, protectedDirs: [], howToAllow: '' });

  private readonly readDirs: string[] | null;
  private readonly writeDirs: string[] | null;
  private readonly protectedDirs: string[];

  constructor(private readonly policy: FileAccessPolicy) {
    this.writeDirs = policy.writeDirs?.map(canonical) ?? null;
    this.readDirs = policy.readDirs === null && policy.writeDirs === null ? null : [...(this.writeDirs ?? []), ...(policy.readDirs ?? []).map(canonical)];
    this.protectedDirs = policy.protectedDirs.map(canonical);
  }

  static from(policy: FileAccessPolicy | null | undefined): FileAccess {
    return policy ? new FileAccess(policy) : FileAccess.unconfined;
  }

  get confined(): boolean {
    return this.readDirs !== null;
  }

  toJSON(): FileAccessPolicy {
    return this.policy;
  }

  /** The folders a confined process may write to (for messages and `app.info`); null when unconfined. */
  get allowedFolders(): string[] | null {
    return this.writeDirs;
  }

  /** Refuses (FORBIDDEN) reading `path` outside the allowed folders; returns the path as given otherwise. `what`: "the sales file". */
  checkRead(path: string, what: string): string {
    if (!this.readDirs) return path;
    const real = canonical(path);
    if (!this.readDirs.some((d) => inside(real, d))) throw this.refusal(path, what, 'read', this.readDirs);
    return path;
  }

  /** Refuses (FORBIDDEN) writing or creating `path` outside the allowed folders, or inside a protected one. */
  checkWrite(path: string, what: string): string {
    if (!this.writeDirs) return path;
    const real = canonical(path);
    if (!this.writeDirs.some((d) => inside(real, d))) throw this.refusal(path, what, 'write', this.writeDirs);
    const guarded = this.protectedDirs.find((p) => inside(real, p) && !this.writeDirs!.some((d) => inside(d, p) && d !== p && inside(real, d)));
    if (guarded !== undefined)
      throw new AppraiseError('FORBIDDEN', `${what} ${quotePath(path)} is inside the workspace's own folder, which holds its database; choose another folder`, {
        details: { path, reason: 'protected' },
      });
    return path;
  }

  private refusal(path: string, what: string, verb: 'read' | 'write', dirs: string[]): AppraiseError {
    const list = dirs.length > 0 ? dirs.map(quotePath).join(', ') : 'none';
    return new AppraiseError(
      'FORBIDDEN',
      `${what} ${quotePath(path)} is outside the folders this app may ${verb} (${list}); move it into one of them, or ${this.policy.howToAllow || 'allow its folder'}`,
      { details: { path, allowed: dirs } },
    );
  }
}

let current: FileAccess = FileAccess.unconfined;

/** The policy of this process (unconfined unless a web host installed one). */
export function fileAccess(): FileAccess {
  return current;
}

/** Installs the process's policy; returns the one it replaced (to restore it, e.g. when a host closes). */
export function installFileAccess(policy: FileAccess): FileAccess {
  const previous = current;
  current = policy;
  return previous;
}

/** The absolute path with symbolic links resolved, as far as the path exists; the rest is appended as written. */
function canonical(path: string): string {
  let head = resolve(path);
  const tail: string[] = [];
  while (!existsSync(head)) {
    const parent = dirname(head);
    if (parent === head) break;
    tail.unshift(head.slice(parent.length).replace(/^[\\/]+/, ''));
    head = parent;
  }
  let real: string;
  try {
    real = realpathSync.native(head);
  } catch {
    real = head;
  }
  return tail.length > 0 ? join(real, ...tail) : real;
}

function inside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** A path for a message: whole when short, else its start and end (paths come from the caller). */
function quotePath(p: string): string {
  return JSON.stringify(p.length > 200 ? `${p.slice(0, 120)}…${p.slice(-60)}` : p);
}
