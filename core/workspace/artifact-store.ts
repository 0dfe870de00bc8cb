import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync, rmSync, openSync, closeSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { AppraiseError } from '../common/errors.js';
import { fsyncFile } from '../common/fsync-file.js';
import { isSealed, openArtifact, sealArtifact } from '../common/sealed-file.js';

const SHA256 = /^[0-9a-f]{64}$/;
const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The first bytes of a file: enough to tell a sealed file from a plain one. */
function readHead(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(16);
    return head.subarray(0, readSync(fd, head, 0, 16, 0));
  } finally {
    closeSync(fd);
  }
}

/**
 * Content-addressed files (ONNX models, manifests, reports) under `<workspace>/artifacts/sha256/ab/abcd…`, named by
 * the sha256 of their plaintext. Writes are atomic (temp file, fsync, rename), so a crash never leaves a half
 * artifact under a real name; reads verify the hash, so a corrupted or tampered file is refused rather than used.
 *
 * In an encrypted workspace the store has an artifact key (derived from the workspace key) and every file is sealed
 * with AES-256-GCM (core/workspace/sealed-file.ts): a random nonce per write, the address in the authenticated data.
 * Plain files left from before the workspace was encrypted still read (their hash is checked as before) and are
 * sealed in place by `sealPlainArtifacts`, which opening an encrypted workspace runs.
 */
export class ArtifactStore {
  constructor(
    readonly root: string,
    private readonly key: Buffer | null = null,
  ) {
    mkdirSync(join(root, 'sha256'), { recursive: true, mode: 0o700 });
    mkdirSync(join(root, 'tmp'), { recursive: true, mode: 0o700 });
  }

  /** True when new artifacts are written encrypted. */
  get encrypted(): boolean {
    return this.key !== null;
  }

  pathOf(sha256: string): string {
    if (!SHA256.test(sha256)) throw new AppraiseError('INVALID_INPUT', `not a sha256 artifact id: ${sha256}`);
    return join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  put(bytes: Uint8Array): string {
    const sha = sha256Of(bytes);
    const final = this.pathOf(sha);
    // An existing file is kept only when it still holds these bytes in this store's form: putting the genuine
    // bytes again repairs a damaged or tampered artifact instead of silently keeping it (issue 14, #8), and seals a
    // plain one in an encrypted workspace.
    if (existsSync(final) && this.holds(sha, readFileSync(final))) return sha;
    this.writeAtomically(final, sha, this.key ? sealArtifact(this.key, sha, bytes) : bytes);
    return sha;
  }

  has(sha256: string): boolean {
    return existsSync(this.pathOf(sha256));
  }

  get(sha256: string): Buffer {
    const p = this.pathOf(sha256);
    if (!existsSync(p)) throw new AppraiseError('NOT_FOUND', `artifact ${sha256.slice(0, 12)} is missing from the workspace`);
    return this.decode(sha256, readFileSync(p));
  }

  delete(sha256: string): void {
    rmSync(this.pathOf(sha256), { force: true });
  }

  /** Every stored artifact's address. */
  list(): string[] {
    const out: string[] = [];
    const base = join(this.root, 'sha256');
    for (const prefix of readdirSync(base)) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
      for (const name of readdirSync(join(base, prefix))) if (SHA256.test(name) && name.startsWith(prefix)) out.push(name);
    }
    return out.sort();
  }

  /**
   * Seals every plain artifact in place (atomically, one file at a time) when this store has a key: the migration
   * of a workspace encrypted before artifacts were, or by `workspace encrypt`. A plain file that does not hash to its
   * name is left alone (reading it reports it as tampered); a sealed one is not opened here (reading it checks it).
   * Returns how many were sealed.
   */
  sealPlainArtifacts(): number {
    if (!this.key) return 0;
    let sealed = 0;
    for (const sha of this.list()) {
      const p = this.pathOf(sha);
      let bytes: Buffer;
      try {
        // Runs on every open: a sealed file is told by its first bytes, without reading or decrypting it.
        if (isSealed(readHead(p))) continue;
        bytes = readFileSync(p);
      } catch {
        continue; // deleted meanwhile
      }
      if (sha256Of(bytes) !== sha) continue;
      this.writeAtomically(p, sha, sealArtifact(this.key, sha, bytes));
      sealed++;
    }
    return sealed;
  }

  /**
   * Writes every artifact sealed under `nextKey` into a staging folder, leaving the live files untouched: the first
   * half of a key rotation. `commitRekey` with the new key moves them into place once the database uses it.
   */
  stageRekey(nextKey: Buffer): number {
    const staging = join(this.root, 'rekey');
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true, mode: 0o700 });
    const all = this.list();
    for (const sha of all) {
      const target = join(staging, sha);
      writeFileSync(target, sealArtifact(nextKey, sha, this.get(sha)), { mode: 0o600 });
      fsyncFile(target);
    }
    fsyncFile(staging);
    return all.length;
  }

  /**
   * Finishes (or drops) a key rotation an earlier run staged: a staged file that opens under this store's key was
   * staged for the key now in use and replaces the live one; any other is left from a rotation that did not
   * happen and is removed. Runs on every open, so a crash between the database's switch and the last rename
   * finishes on the next open.
   */
  settleRekey(): number {
    const staging = join(this.root, 'rekey');
    if (!existsSync(staging)) return 0;
    let moved = 0;
    for (const name of readdirSync(staging)) {
      const staged = join(staging, name);
      if (this.key && SHA256.test(name) && openArtifact(this.key, name, readFileSync(staged))) {
        mkdirSync(join(this.root, 'sha256', name.slice(0, 2)), { recursive: true, mode: 0o700 });
        renameSync(staged, this.pathOf(name));
        moved++;
      } else {
        rmSync(staged, { force: true });
      }
    }
    rmSync(staging, { recursive: true, force: true });
    return moved;
  }

  /** True when `bytes` are the artifact `sha` in the form this store writes (sealed under its key, or plain). */
  private holds(sha: string, bytes: Buffer): boolean {
    if (this.key) return isSealed(bytes) && openArtifact(this.key, sha, bytes) !== null;
    return sha256Of(bytes) === sha;
  }

  private decode(sha: string, bytes: Buffer): Buffer {
    const short = sha.slice(0, 12);
    if (isSealed(bytes)) {
      if (!this.key) {
        throw new AppraiseError(
          'BAD_FILE',
          `artifact ${short} is encrypted, but this workspace is not: it was copied from an encrypted workspace or the key file was removed; restore the workspace from a backup`,
        );
      }
      const plain = openArtifact(this.key, sha, bytes);
      // A plain file could start with the magic by chance: it is then checked by its hash like any plain file.
      if (plain && sha256Of(plain) === sha) return plain;
      if (sha256Of(bytes) !== sha) {
        throw new AppraiseError(
          'BAD_FILE',
          `artifact ${short} failed its integrity check: the encrypted file was modified, damaged or put under another name; restore it or re-import the model`,
        );
      }
      return bytes;
    }
    const actual = sha256Of(bytes);
    if (actual !== sha) {
      throw new AppraiseError(
        'BAD_FILE',
        `artifact ${short} is corrupt or was modified (its content hashes to ${actual.slice(0, 12)}); restore it or re-import the model`,
      );
    }
    return bytes;
  }

  private writeAtomically(final: string, sha: string, content: Uint8Array): void {
    mkdirSync(join(this.root, 'sha256', sha.slice(0, 2)), { recursive: true, mode: 0o700 });
    const tmp = join(this.root, 'tmp', `${sha}.${randomUUID()}`);
    writeFileSync(tmp, content, { mode: 0o600 });
    fsyncFile(tmp);
    renameSync(tmp, final);
  }
}
