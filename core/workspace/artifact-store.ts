import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync, rmSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { AppraiseError } from '../common/errors.js';

/**
 * Content-addressed files (ONNX models, manifests, reports) under `<workspace>/artifacts/sha256/ab/abcd…`.
 * Writes are atomic (temp file, fsync, rename), so a crash never leaves a half artifact under a real name;
 * reads verify the hash, so a corrupted or tampered file is refused rather than used.
 */
export class ArtifactStore {
  constructor(readonly root: string) {
    mkdirSync(join(root, 'sha256'), { recursive: true });
    mkdirSync(join(root, 'tmp'), { recursive: true });
  }

  pathOf(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new AppraiseError('INVALID_INPUT', `not a sha256 artifact id: ${sha256}`);
    return join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  put(bytes: Uint8Array): string {
    const sha = createHash('sha256').update(bytes).digest('hex');
    const final = this.pathOf(sha);
    // An existing file is kept only when it still holds these bytes: putting the genuine bytes again repairs a
    // damaged or tampered artifact instead of silently keeping it (issue 14, #8).
    if (existsSync(final) && createHash('sha256').update(readFileSync(final)).digest('hex') === sha) return sha;
    mkdirSync(join(this.root, 'sha256', sha.slice(0, 2)), { recursive: true });
    const tmp = join(this.root, 'tmp', `${sha}.${randomUUID()}`);
    writeFileSync(tmp, bytes);
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, final);
    return sha;
  }

  has(sha256: string): boolean {
    return existsSync(this.pathOf(sha256));
  }

  get(sha256: string): Buffer {
    const p = this.pathOf(sha256);
    if (!existsSync(p)) throw new AppraiseError('NOT_FOUND', `artifact ${sha256.slice(0, 12)} is missing from the workspace`);
    const bytes = readFileSync(p);
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha256) {
      throw new AppraiseError(
        'BAD_FILE',
        `artifact ${sha256.slice(0, 12)} is corrupt or was modified (its content hashes to ${actual.slice(0, 12)}); restore it or re-import the model`,
      );
    }
    return bytes;
  }

  delete(sha256: string): void {
    rmSync(this.pathOf(sha256), { force: true });
  }
}
