import { createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AppraiseError } from '../common/errors.js';

/** The small file next to the database that says the workspace is encrypted and how to derive its key. */
export const KEY_FILE = 'appraise.key.json';
/** A key file written before the database it belongs to is moved into place (encrypt, rekey); see `settleKeyFiles`. */
export const PENDING_KEY_FILE = 'appraise.key.pending.json';

/**
 * scrypt cost: N=2^15, r=8, p=1 needs 32 MiB and ~0.1 s on a laptop, paid once per open. Stored in the file, so
 * a later release can raise it for new workspaces without breaking old ones.
 */
export const DEFAULT_KDF = { N: 2 ** 15, r: 8, p: 1 } as const;

/** The scrypt cost and salt a passphrase key is derived with, as stored beside what it protects. */
export const scryptParamsSchema = z.object({
  N: z
    .number()
    .int()
    .min(2 ** 10),
  r: z.number().int().min(1),
  p: z.number().int().min(1),
  salt: z.string().min(16),
});
export type ScryptParams = z.output<typeof scryptParamsSchema>;

const keyFileSchema = scryptParamsSchema.extend({
  format: z.literal(1),
  kdf: z.literal('scrypt'),
  // HMAC of a fixed label under the derived key: tells a wrong passphrase from a damaged database before SQLite runs.
  check: z.string().length(64),
  cipher: z.literal('chacha20'),
});
export type WorkspaceKeyFile = z.output<typeof keyFileSchema>;

const CHECK_LABEL = 'appraise workspace key check v1';
const SQLITE_PLAIN_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** The 256-bit key a passphrase derives with these scrypt parameters (NFC first: the same text typed anywhere). */
export function deriveScryptKey(passphrase: string, params: ScryptParams): Buffer {
  return scryptSync(passphrase.normalize('NFC'), Buffer.from(params.salt, 'base64'), 32, {
    N: params.N,
    r: params.r,
    p: params.p,
    maxmem: 256 * params.N * params.r + 16 * 1024 * 1024,
  });
}

/** HMAC of a fixed label under a derived key: tells a wrong passphrase from damaged data without decrypting. */
export function keyCheck(key: Buffer, label: string): string {
  return createHmac('sha256', key).update(label).digest('hex');
}

function checkOf(key: Buffer): string {
  return keyCheck(key, CHECK_LABEL);
}

/** A fresh key file (new random salt) for `passphrase`, and the database key it derives. */
export function newKeyFile(passphrase: string, kdf: { N: number; r: number; p: number } = DEFAULT_KDF): { file: WorkspaceKeyFile; key: Buffer } {
  if (passphrase.length < 8) throw new AppraiseError('INVALID_INPUT', 'the workspace passphrase must be at least 8 characters long');
  const base = { format: 1 as const, kdf: 'scrypt' as const, ...kdf, salt: randomBytes(16).toString('base64'), cipher: 'chacha20' as const };
  const key = deriveScryptKey(passphrase, base);
  return { file: { ...base, check: checkOf(key) }, key };
}

/** The database key for `passphrase`, or a LOCKED error in plain words when it is not this workspace's passphrase. */
export function unlockKey(passphrase: string, file: WorkspaceKeyFile): Buffer {
  const key = deriveScryptKey(passphrase, file);
  if (!timingSafeEqual(Buffer.from(checkOf(key), 'hex'), Buffer.from(file.check, 'hex'))) {
    throw new AppraiseError('LOCKED', 'that passphrase does not unlock this workspace; check it and try again');
  }
  return key;
}

/** The key a KeyCustody kept, once it is checked against the key file (LOCKED when it belongs to another workspace). */
export function unlockWithKey(key: Buffer, file: WorkspaceKeyFile): Buffer {
  if (key.length !== 32 || !timingSafeEqual(Buffer.from(checkOf(key), 'hex'), Buffer.from(file.check, 'hex'))) {
    throw new AppraiseError('LOCKED', 'the stored key does not unlock this workspace (its passphrase was changed); give the passphrase');
  }
  return key;
}

/** True when the passphrase unlocks `file` (no error). */
export function passphraseMatches(passphrase: string, file: WorkspaceKeyFile): boolean {
  return timingSafeEqual(Buffer.from(checkOf(deriveScryptKey(passphrase, file)), 'hex'), Buffer.from(file.check, 'hex'));
}

export function readKeyFile(path: string): WorkspaceKeyFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new AppraiseError('BAD_FILE', `the workspace key file ${path} is damaged (${(e as Error).message}); restore it from a backup`);
  }
  const parsed = keyFileSchema.safeParse(raw);
  if (!parsed.success) throw new AppraiseError('BAD_FILE', `the workspace key file ${path} is damaged or from a newer Appraise; restore it from a backup`);
  return parsed.data;
}

/** Writes a key file atomically (temp, fsync, rename). */
export function writeKeyFile(path: string, file: WorkspaceKeyFile): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
}

/** The SQLite `PRAGMA hexkey` value for a derived key. */
export function sqliteKeyPragma(key: Buffer): string {
  return `hexkey='${key.toString('hex')}'`;
}

/** True when the file starts with SQLite's plaintext header (an encrypted database does not). */
export function isPlainSqliteFile(path: string): boolean {
  if (!existsSync(path)) return false;
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(16);
    return readSync(fd, head, 0, 16, 0) === 16 && head.equals(SQLITE_PLAIN_HEADER);
  } finally {
    closeSync(fd);
  }
}

/**
 * Finishes or undoes an encrypt/rekey that a crash interrupted. Those write the new key file under
 * PENDING_KEY_FILE, move the new database into place, then rename the pending file over KEY_FILE; so a pending
 * file is the right one exactly when it unlocks the database now in place. Called on open, with the passphrase.
 */
export function settleKeyFiles(dir: string, passphrase: string | undefined, dbOpensWith: (key: Buffer) => boolean): void {
  const pendingPath = join(dir, PENDING_KEY_FILE);
  if (!existsSync(pendingPath)) return;
  const pending = readKeyFile(pendingPath);
  const dbPath = join(dir, 'appraise.db');
  if (isPlainSqliteFile(dbPath)) {
    // Crashed before the encrypted copy replaced the plain database: nothing changed.
    if (!existsSync(join(dir, KEY_FILE))) {
      rmSync(pendingPath, { force: true });
      return;
    }
  }
  if (passphrase === undefined) return; // decided when a passphrase is given
  if (passphraseMatches(passphrase, pending) && dbOpensWith(deriveScryptKey(passphrase, pending))) {
    renameSync(pendingPath, join(dir, KEY_FILE));
  } else if (existsSync(join(dir, KEY_FILE))) {
    const current = readKeyFile(join(dir, KEY_FILE));
    if (passphraseMatches(passphrase, current) && dbOpensWith(deriveScryptKey(passphrase, current))) rmSync(pendingPath, { force: true });
  }
}

/** The passphrase from `APPRAISE_WORKSPACE_KEY` (the CLI's `--passphrase-file` sets it), if any. */
export function passphraseFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = env.APPRAISE_WORKSPACE_KEY;
  return v === undefined || v === '' ? undefined : v;
}
