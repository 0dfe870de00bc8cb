import { createCipheriv, createDecipheriv, createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { z } from 'zod';
import { AppraiseError } from '../common/errors.js';
import { fsyncFile } from '../common/fsync-file.js';
import { DATABASE_FILE, openSqlite, workspaceKey } from './workspace.js';
import { DEFAULT_KDF, KEY_FILE, deriveScryptKey, keyCheck, scryptParamsSchema } from './workspace-key.js';

/**
 * One backup file: a magic line, a JSON header line (scrypt parameters, salt, IV, passphrase check), then the
 * payload sealed with AES-256-GCM (the header is authenticated too). The payload is a manifest (every file's
 * path, size and SHA-256) followed by the files: a consistent database snapshot (VACUUM INTO, safe while the app
 * runs; still encrypted with the workspace key if the workspace is), the key file, and the artifacts.
 */
const MAGIC = 'APPRAISE-BACKUP 1\n';
const CHECK_LABEL = 'appraise backup key check v1';

const headerSchema = scryptParamsSchema.extend({
  format: z.literal(1),
  iv: z.string(),
  check: z.string().length(64),
});

export const backupManifestSchema = z.object({
  createdAt: z.string(),
  encryptedWorkspace: z.boolean(),
  files: z.array(z.object({ path: z.string(), size: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
});
export type BackupManifest = z.output<typeof backupManifestSchema>;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function listFiles(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

/** Writes a backup of the workspace in `dir` to `to`; `passphrase` seals it (and unlocks an encrypted workspace). */
export function createBackup(dir: string, to: string, passphrase: string): BackupManifest & { file: string; bytes: number } {
  if (passphrase.length < 8) throw new AppraiseError('INVALID_INPUT', 'the backup passphrase must be at least 8 characters long');
  const dbPath = join(dir, DATABASE_FILE);
  if (!existsSync(dbPath)) throw new AppraiseError('NOT_FOUND', `there is no workspace at ${dir} to back up`);
  const key = workspaceKey(dir, passphrase);
  const snapshot = join(dir, `appraise.db.backup-${randomUUID()}`);
  const files: { path: string; bytes: Buffer }[] = [];
  try {
    const db = openSqlite(dbPath, key);
    try {
      db.pragma('busy_timeout = 5000');
      db.prepare('VACUUM INTO ?').run(snapshot);
    } finally {
      db.close();
    }
    files.push({ path: DATABASE_FILE, bytes: readFileSync(snapshot) });
  } finally {
    rmSync(snapshot, { force: true });
  }
  if (key) files.push({ path: KEY_FILE, bytes: readFileSync(join(dir, KEY_FILE)) });
  for (const f of listFiles(join(dir, 'artifacts', 'sha256'))) files.push({ path: relative(dir, f).split(sep).join('/'), bytes: readFileSync(f) });

  const manifest: BackupManifest = {
    createdAt: new Date().toISOString(),
    encryptedWorkspace: key !== null,
    files: files.map((f) => ({ path: f.path, size: f.bytes.length, sha256: sha256(f.bytes) })),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(manifestBytes.length);
  const payload = Buffer.concat([length, manifestBytes, ...files.map((f) => f.bytes)]);

  const kdf = { ...DEFAULT_KDF, salt: randomBytes(16).toString('base64') };
  const sealKey = deriveScryptKey(passphrase, kdf);
  const header = { format: 1 as const, ...kdf, iv: randomBytes(12).toString('base64'), check: keyCheck(sealKey, CHECK_LABEL) };
  const headerLine = `${JSON.stringify(header)}\n`;
  const cipher = createCipheriv('aes-256-gcm', sealKey, Buffer.from(header.iv, 'base64'));
  cipher.setAAD(Buffer.from(MAGIC + headerLine));
  const sealed = Buffer.concat([Buffer.from(MAGIC + headerLine), cipher.update(payload), cipher.final(), cipher.getAuthTag()]);

  mkdirSync(dirname(to), { recursive: true });
  const tmp = `${to}.${randomUUID()}.tmp`;
  writeFileSync(tmp, sealed, { mode: 0o600 });
  fsyncFile(tmp);
  renameSync(tmp, to);
  return { ...manifest, file: to, bytes: sealed.length };
}

/** Opens and checks a backup: the passphrase, the seal (any changed byte is refused), and every file's hash. */
export function readBackup(file: string, passphrase: string): { manifest: BackupManifest; files: Map<string, Buffer> } {
  if (!existsSync(file)) throw new AppraiseError('NOT_FOUND', `there is no backup file ${file}`);
  const bytes = readFileSync(file);
  const notBackup = new AppraiseError('BAD_FILE', `${basename(file)} is not an Appraise backup (or its first lines are damaged)`);
  if (!bytes.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC))) throw notBackup;
  const headerEnd = bytes.indexOf(0x0a, MAGIC.length);
  if (headerEnd < 0) throw notBackup;
  let header: z.output<typeof headerSchema>;
  try {
    header = headerSchema.parse(JSON.parse(bytes.subarray(MAGIC.length, headerEnd).toString('utf8')));
  } catch {
    throw notBackup;
  }
  const sealKey = deriveScryptKey(passphrase, header);
  const check = Buffer.from(keyCheck(sealKey, CHECK_LABEL), 'hex');
  if (!timingSafeEqual(check, Buffer.from(header.check, 'hex'))) {
    throw new AppraiseError('LOCKED', 'that passphrase does not open this backup; use the passphrase the backup was made with');
  }
  const body = bytes.subarray(headerEnd + 1);
  if (body.length < 16 + 4) throw new AppraiseError('BAD_FILE', `${basename(file)} is cut short: the backup is incomplete`);
  const decipher = createDecipheriv('aes-256-gcm', sealKey, Buffer.from(header.iv, 'base64'));
  decipher.setAAD(bytes.subarray(0, headerEnd + 1));
  decipher.setAuthTag(body.subarray(body.length - 16));
  let payload: Buffer;
  try {
    payload = Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
  } catch {
    throw new AppraiseError('BAD_FILE', `${basename(file)} was changed or damaged after it was made; it cannot be trusted and was not used`);
  }
  const manifestLength = payload.readUInt32BE(0);
  const manifest = backupManifestSchema.parse(JSON.parse(payload.subarray(4, 4 + manifestLength).toString('utf8')));
  const files = new Map<string, Buffer>();
  let at = 4 + manifestLength;
  for (const f of manifest.files) {
    const content = payload.subarray(at, at + f.size);
    at += f.size;
    const safe = !f.path.startsWith('/') && !f.path.split('/').includes('..');
    if (!safe || content.length !== f.size || sha256(content) !== f.sha256) {
      throw new AppraiseError('BAD_FILE', `${basename(file)}: the copy of ${f.path} does not match its recorded hash; the backup was not used`);
    }
    files.set(f.path, content);
  }
  return { manifest, files };
}

/**
 * Restores a backup into `target`, which must be empty or missing unless `force`. The files are written to a
 * sibling folder, checked to open, and only then swapped in by rename, so a failure leaves `target` as it was.
 */
export function restoreBackup(file: string, target: string, passphrase: string, options: { force?: boolean } = {}): BackupManifest {
  const { manifest, files } = readBackup(file, passphrase);
  const occupied = existsSync(target) && (!statSync(target).isDirectory() || readdirSync(target).length > 0);
  if (occupied && !options.force) {
    throw new AppraiseError('CONFLICT', `${target} is not empty; restore into a new folder, or add --force to replace that workspace`);
  }
  mkdirSync(dirname(target), { recursive: true });
  const staging = `${target}.restoring-${randomUUID()}`;
  try {
    for (const [path, content] of files) {
      const dest = join(staging, ...path.split('/'));
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, content, { mode: 0o600 });
      fsyncFile(dest);
    }
    mkdirSync(join(staging, 'artifacts', 'tmp'), { recursive: true });
    const db = openSqlite(join(staging, DATABASE_FILE), workspaceKey(staging, passphrase));
    try {
      if (db.pragma('integrity_check', { simple: true }) !== 'ok') throw new AppraiseError('BAD_FILE', 'the database in the backup fails its integrity check');
    } finally {
      db.close();
    }
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
  if (existsSync(target)) {
    const old = `${target}.replaced-${randomUUID()}`;
    renameSync(target, old);
    renameSync(staging, target);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(staging, target);
  }
  return manifest;
}
