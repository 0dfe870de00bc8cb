import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isSealed, openWithPassphrase, sealWithPassphrase } from '../common/sealed-file.js';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AppraiseError, badFile } from '../common/errors.js';
import { canonicalJson, verifyChain } from './audit-chain.js';
import { auditExportSchema, type AuditExport, type AuditVerification } from './audit-schemas.js';
import type { AuditTrail } from './audit-trail.js';

const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

const keyFileSchema = z.strictObject({
  keyType: z.literal('ed25519'),
  publicKey: z.string().regex(/^[0-9a-f]{64}$/),
  privateKey: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.string(),
});
type AuditKey = z.output<typeof keyFileSchema>;

/** Where a workspace keeps the key that signs its audit exports (created on first export, mode 0600). */
export const auditKeyPath = (workspaceDir: string) => join(workspaceDir, 'keys', 'audit-signing-key.json');

/** The short fingerprint a reviewer compares with the one the workspace's owner gave them. */
export const keyFingerprint = (publicKeyHex: string) => createHash('sha256').update(Buffer.from(publicKeyHex, 'hex')).digest('hex').slice(0, 32);

/** Reads the workspace's audit signing key, creating it on first use. */
export function auditSigningKey(workspaceDir: string): AuditKey {
  const file = auditKeyPath(workspaceDir);
  if (existsSync(file)) {
    let parsed: ReturnType<typeof keyFileSchema.safeParse>;
    try {
      parsed = keyFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    } catch {
      parsed = keyFileSchema.safeParse(null);
    }
    if (!parsed.success) throw badFile(`the audit signing key ${file} is damaged; restore it from a backup (a new key would not match earlier exports)`);
    return parsed.data;
  }
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const key: AuditKey = {
    keyType: 'ed25519',
    publicKey: publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519.length).toString('hex'),
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_ED25519.length).toString('hex'),
    createdAt: new Date().toISOString(),
  };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeAtomically(file, `${JSON.stringify(key, null, 2)}\n`);
  return key;
}

const privateKeyObject = (hex: string): KeyObject =>
  createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, Buffer.from(hex, 'hex')]), format: 'der', type: 'pkcs8' });
const publicKeyObject = (hex: string): KeyObject =>
  createPublicKey({ key: Buffer.concat([SPKI_ED25519, Buffer.from(hex, 'hex')]), format: 'der', type: 'spki' });

/** What the signature covers: every field of the export but the signature, canonically encoded. */
function signedBytes(e: Omit<AuditExport, 'signature'>): Buffer {
  return Buffer.from(`appraise-audit-export/1\n${canonicalJson(e)}`, 'utf8');
}

/**
 * Writes every entry of the trail with its head and an Ed25519 signature by the workspace's key to `out`
 * (atomically, mode 0600). The export is recorded in the trail first, so it contains its own entry.
 */
export function exportAuditTrail(
  trail: AuditTrail,
  workspaceDir: string,
  out: string,
  options: { passphrase?: string } = {},
): { file: string; entries: number; fingerprint: string; encrypted: boolean } {
  const key = auditSigningKey(workspaceDir);
  const encrypted = options.passphrase !== undefined;
  // Checked before the entry is recorded: a too-short passphrase must not leave an export in the trail.
  if (encrypted) sealWithPassphrase(options.passphrase ?? '', Buffer.alloc(0), { N: 2 ** 10, r: 1, p: 1 });
  trail.record({
    action: 'audit.export',
    ids: { file: out, key: keyFingerprint(key.publicKey), ...(encrypted ? { encryption: 'aes-256-gcm' } : {}) },
    outcome: 'ok',
  });
  const body: Omit<AuditExport, 'signature'> = {
    format: 'appraise-audit-export/1',
    exportedAt: new Date().toISOString(),
    exportedBy: trail.actor,
    head: trail.head(),
    entries: trail.all(),
    publicKey: key.publicKey,
  };
  const signature = sign(null, signedBytes(body), privateKeyObject(key.privateKey)).toString('hex');
  try {
    mkdirSync(dirname(out), { recursive: true });
    const text = `${JSON.stringify({ ...body, signature }, null, 2)}\n`;
    // Encrypted (AES-256-GCM, scrypt from the passphrase; core/workspace/sealed-file.ts) when the trail leaves the
    // laptop by mail or stick: it names clients' files and the actions on them. The signature is inside.
    writeAtomically(out, encrypted ? sealWithPassphrase(options.passphrase ?? '', Buffer.from(text)) : text);
  } catch (e) {
    if (e instanceof AppraiseError) throw e;
    throw new AppraiseError('INVALID_INPUT', `cannot write the audit export to ${out}: ${(e as Error).message}; choose a folder you can write to`);
  }
  return { file: out, entries: body.entries.length, fingerprint: keyFingerprint(key.publicKey), encrypted };
}

/**
 * Checks an export file on its own (a reviewer needs no workspace): its signature under the public key it names,
 * and the chain of its entries against its head. Compare the fingerprint with the one the workspace's owner gave
 * you: the signature proves the file is unchanged since that key signed it, not whose key it is.
 */
export function verifyAuditExport(file: string, passphrase?: string): AuditVerification & { fingerprint: string | null } {
  let raw: unknown;
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw badFile(`cannot read the audit export ${file}: ${why}`);
  }
  if (isSealed(bytes)) {
    if (passphrase === undefined) {
      throw new AppraiseError('LOCKED', `the audit export ${file} is encrypted; give its passphrase (--passphrase-file FILE or APPRAISE_EXPORT_PASSPHRASE)`);
    }
    bytes = openWithPassphrase(passphrase, bytes, `the audit export ${file}`);
  }
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw badFile(`cannot read the audit export ${file}: it is not valid JSON`);
  }
  const parsed = auditExportSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues.slice(0, 3).map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
    throw badFile(`${file} is not a readable Appraise audit export (${first.join('; ')})`);
  }
  const { signature, ...body } = parsed.data;
  const problems = verifyChain(body.entries, body.head);
  let good = false;
  try {
    good = verify(null, signedBytes(body), publicKeyObject(body.publicKey), Buffer.from(signature, 'hex'));
  } catch {
    good = false;
  }
  if (!good) problems.unshift({ seq: 0, kind: 'bad-signature', message: 'the signature does not match: the export was changed after it was signed' });
  return { ok: problems.length === 0, entries: body.entries.length, head: body.head, problems, fingerprint: keyFingerprint(body.publicKey) };
}

/** Verifies a workspace's own trail. */
export function verifyAuditTrail(trail: AuditTrail): AuditVerification {
  const entries = trail.all();
  const head = trail.head();
  const problems = verifyChain(entries, head);
  return { ok: problems.length === 0, entries: entries.length, head, problems };
}

function writeAtomically(file: string, text: string | Buffer): void {
  const tmp = `${file}.${randomUUID()}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
