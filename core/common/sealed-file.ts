import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { AppraiseError } from './errors.js';

/** scrypt cost for a passphrase-sealed file: the workspace key's (core/workspace/workspace-key.ts), 32 MiB. */
const DEFAULT_KDF = { N: 2 ** 15, r: 8, p: 1 } as const;

function deriveScryptKey(passphrase: string, params: { N: number; r: number; p: number; salt: Buffer }): Buffer {
  return scryptSync(passphrase.normalize('NFC'), params.salt, 32, {
    N: params.N,
    r: params.r,
    p: params.p,
    maxmem: 256 * params.N * params.r + 16 * 1024 * 1024,
  });
}

/**
 * AES-256-GCM files (issue 14, encryption at rest): artifacts of an encrypted workspace and exports sealed with a
 * passphrase. One layout for both, documented in docs/security.md ("Sealed files"), so a file can be told from
 * plaintext by its first bytes and decrypted with `appraise decrypt FILE`.
 *
 *   offset  size  field
 *   0       8     magic "APPRSEAL"
 *   8       1     format version (1)
 *   9       1     kind: 1 = artifact (key derived from the workspace key), 2 = passphrase (scrypt)
 *   kind 2 only:
 *   10      1     log2 of scrypt N
 *   11      1     scrypt r
 *   12      1     scrypt p
 *   13      16    scrypt salt
 *   29      16    passphrase check: HMAC-SHA256(key, "appraise sealed file check v1"), first 16 bytes
 *   then    12    nonce (random, 96 bits; a new one for every write)
 *   then    n     ciphertext
 *   last    16    GCM authentication tag
 *
 * The whole header is the GCM additional data, so no field can be changed without the tag failing. An artifact's
 * additional data also holds its address (the sha256 of its plaintext): an encrypted file moved under another
 * artifact's name fails as tampered instead of decrypting to the wrong model.
 */
export const SEAL_MAGIC = Buffer.from('APPRSEAL', 'latin1');
export const SEAL_VERSION = 1;
export const SEAL_KIND_ARTIFACT = 1;
export const SEAL_KIND_PASSPHRASE = 2;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const SALT_BYTES = 16;
const CHECK_BYTES = 16;
const ARTIFACT_HEADER = SEAL_MAGIC.length + 2 + NONCE_BYTES;
const PASSPHRASE_PREFIX = SEAL_MAGIC.length + 2 + 3 + SALT_BYTES + CHECK_BYTES;
const CHECK_LABEL = 'appraise sealed file check v1';
/** The most memory scrypt may ask for when reading a file (1 GiB; the default asks for 32 MiB). */
const MAX_SCRYPT_MEMORY = 2 ** 30;
const ARTIFACT_KEY_INFO = 'appraise artifact key v1';

/** True when `bytes` start like a sealed file (either kind). */
export function isSealed(bytes: Uint8Array): boolean {
  return bytes.length >= SEAL_MAGIC.length + 2 && SEAL_MAGIC.equals(Buffer.from(bytes.buffer, bytes.byteOffset, SEAL_MAGIC.length));
}

/**
 * The artifact key of a workspace: HKDF-SHA256 of the workspace database key with its own label, so the key that
 * seals artifacts is never the one SQLite uses, and both follow the passphrase (rekey changes both).
 */
export function artifactKeyOf(workspaceKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', workspaceKey, Buffer.alloc(0), ARTIFACT_KEY_INFO, 32));
}

function seal(key: Buffer, header: Buffer, plaintext: Uint8Array, extraAad: Buffer): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const fullHeader = Buffer.concat([header, nonce]);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.concat([fullHeader, extraAad]));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([fullHeader, body, cipher.getAuthTag()]);
}

/** Decrypts or returns null when the tag does not match (a wrong key or a changed byte: GCM cannot tell which). */
function unseal(key: Buffer, bytes: Buffer, headerLength: number, extraAad: Buffer): Buffer | null {
  if (bytes.length < headerLength + TAG_BYTES) return null;
  const header = bytes.subarray(0, headerLength);
  const nonce = header.subarray(headerLength - NONCE_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(Buffer.concat([header, extraAad]));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(headerLength, bytes.length - TAG_BYTES)), decipher.final()]);
  } catch {
    return null;
  }
}

function kindOf(bytes: Buffer, what: string): number {
  if (!isSealed(bytes)) throw new AppraiseError('BAD_FILE', `${what} is not an Appraise sealed file`);
  const version = bytes[SEAL_MAGIC.length];
  if (version !== SEAL_VERSION) {
    throw new AppraiseError('BAD_FILE', `${what} is sealed in format ${version}, which this version of Appraise does not read; update Appraise`);
  }
  return bytes[SEAL_MAGIC.length + 1];
}

/** Seals an artifact's bytes under the workspace's artifact key, bound to its address. */
export function sealArtifact(artifactKey: Buffer, address: string, plaintext: Uint8Array): Buffer {
  return seal(artifactKey, Buffer.concat([SEAL_MAGIC, Buffer.from([SEAL_VERSION, SEAL_KIND_ARTIFACT])]), plaintext, Buffer.from(address, 'latin1'));
}

/** The plaintext of a sealed artifact, or null when it does not authenticate under this key and address. */
export function openArtifact(artifactKey: Buffer, address: string, bytes: Buffer): Buffer | null {
  if (!isSealed(bytes) || kindOf(bytes, 'the artifact') !== SEAL_KIND_ARTIFACT) return null;
  return unseal(artifactKey, bytes, ARTIFACT_HEADER, Buffer.from(address, 'latin1'));
}

function passphraseCheck(key: Buffer): Buffer {
  return createHmac('sha256', key).update(CHECK_LABEL).digest().subarray(0, CHECK_BYTES);
}

/** Seals `plaintext` with a key derived from `passphrase` (scrypt, a new random salt): an export for someone else. */
export function sealWithPassphrase(passphrase: string, plaintext: Uint8Array, kdf: { N: number; r: number; p: number } = DEFAULT_KDF): Buffer {
  if (passphrase.length < 8) throw new AppraiseError('INVALID_INPUT', 'the passphrase for an encrypted export must be at least 8 characters long');
  const log2N = Math.log2(kdf.N);
  if (!Number.isInteger(log2N) || log2N < 10 || kdf.r < 1 || kdf.p < 1 || kdf.p > 16 || 128 * kdf.N * kdf.r > MAX_SCRYPT_MEMORY) {
    throw new AppraiseError('INVALID_INPUT', 'scrypt N must be a power of two of at least 2^10, 128·N·r at most 1 GiB and p at most 16');
  }
  const salt = randomBytes(SALT_BYTES);
  const key = deriveScryptKey(passphrase, { ...kdf, salt });
  const header = Buffer.concat([SEAL_MAGIC, Buffer.from([SEAL_VERSION, SEAL_KIND_PASSPHRASE, log2N, kdf.r, kdf.p]), salt, passphraseCheck(key)]);
  return seal(key, header, plaintext, Buffer.alloc(0));
}

/**
 * The plaintext of a passphrase-sealed file. A wrong passphrase is LOCKED (checked before decrypting, so it is
 * told apart from damage); any changed byte is BAD_FILE. Nothing is returned unless the whole file authenticates.
 */
export function openWithPassphrase(passphrase: string, bytes: Buffer, what = 'the file'): Buffer {
  const kind = kindOf(bytes, what);
  if (kind !== SEAL_KIND_PASSPHRASE) {
    throw new AppraiseError(
      'BAD_FILE',
      kind === SEAL_KIND_ARTIFACT
        ? `${what} is a workspace artifact; it opens only inside its encrypted workspace, not with a passphrase`
        : `${what} is sealed in an unknown way (kind ${kind})`,
    );
  }
  if (bytes.length < PASSPHRASE_PREFIX + NONCE_BYTES + TAG_BYTES) throw new AppraiseError('BAD_FILE', `${what} is cut short; get a complete copy`);
  const at = SEAL_MAGIC.length + 2;
  const [log2N, r, p] = [bytes[at], bytes[at + 1], bytes[at + 2]];
  if (log2N < 10 || log2N > 30 || r < 1 || p < 1) throw new AppraiseError('BAD_FILE', `${what} has a damaged header; get a fresh copy`);
  // A crafted header must not make the reader allocate gigabytes or spin for minutes before the check can fail.
  if (128 * 2 ** log2N * r > MAX_SCRYPT_MEMORY || p > 16) {
    throw new AppraiseError(
      'BAD_FILE',
      `${what} asks for a key derivation this computer cannot run (scrypt N=2^${log2N}, r=${r}, p=${p}); it is damaged or hostile`,
    );
  }
  const params = { N: 2 ** log2N, r, p, salt: bytes.subarray(at + 3, at + 3 + SALT_BYTES) };
  let key: Buffer;
  try {
    key = deriveScryptKey(passphrase, params);
  } catch {
    throw new AppraiseError('BAD_FILE', `${what} asks for a key derivation this computer cannot run (scrypt N=2^${log2N}, r=${r}); it is damaged or hostile`);
  }
  const check = bytes.subarray(at + 3 + SALT_BYTES, PASSPHRASE_PREFIX);
  if (!timingSafeEqual(check, passphraseCheck(key))) {
    throw new AppraiseError('LOCKED', `that passphrase does not open ${what}; check it with the person who sent it`);
  }
  const plain = unseal(key, bytes, PASSPHRASE_PREFIX + NONCE_BYTES, Buffer.alloc(0));
  if (!plain)
    throw new AppraiseError('BAD_FILE', `${what} was changed or damaged after it was sealed (its authentication tag does not match); get a fresh copy`);
  return plain;
}
