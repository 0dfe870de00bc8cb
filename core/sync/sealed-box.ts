import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { z } from 'zod';
import { AppraiseError } from '../common/errors.js';

/**
 * Public-key encryption of a whole file for one recipient key, built only from node:crypto primitives (the
 * ECIES / HPKE-base construction): a fresh 256-bit data key encrypts the payload with AES-256-GCM; the data key is
 * wrapped with AES-256-GCM under a key-encryption key derived by HKDF-SHA256 from an X25519 agreement between a
 * fresh ephemeral key pair and the recipient's key. The ephemeral and recipient public keys are bound into the
 * HKDF salt and the payload's associated data, so a wrapped key cannot be moved to another envelope.
 *
 * Used for model bundles (recipient: the region's key) and monitoring reports (recipient: the registry's key).
 * Integrity against an attacker who can sign comes from TUF and the device signature, not from this: anyone with
 * the recipient's public key can seal.
 */
export const SEALED_ALGORITHM = 'X25519-HKDF-SHA256-AES-256-GCM';

export const sealedBoxSchema = z.object({
  format: z.literal('appraise-sealed/1'),
  alg: z.literal(SEALED_ALGORITHM),
  /** Raw 32-byte X25519 public keys, base64. */
  ephemeralPublicKey: z.string(),
  recipientPublicKey: z.string(),
  wrappedKey: z.object({ iv: z.string(), ciphertext: z.string(), tag: z.string() }),
  payload: z.object({ iv: z.string(), tag: z.string() }),
  /** The encrypted payload, base64. */
  ciphertext: z.string(),
});
export type SealedBox = z.output<typeof sealedBoxSchema>;

export interface X25519KeyPair {
  /** Raw 32-byte keys, base64. */
  publicKey: string;
  privateKey: string;
}

const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const INFO = Buffer.from('appraise sealed box v1: data key wrap');

export function generateX25519KeyPair(): X25519KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return { publicKey: rawPublic(publicKey).toString('base64'), privateKey: rawPrivate(privateKey).toString('base64') };
}

function rawPublic(k: KeyObject): Buffer {
  return k.export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519.length);
}
function rawPrivate(k: KeyObject): Buffer {
  return k.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_X25519.length);
}
function publicKeyObject(raw: string): KeyObject {
  const bytes = Buffer.from(raw, 'base64');
  if (bytes.length !== 32) throw new AppraiseError('INVALID_INPUT', 'an X25519 public key must be 32 bytes (base64)');
  return createPublicKey({ key: Buffer.concat([SPKI_X25519, bytes]), format: 'der', type: 'spki' });
}
function privateKeyObject(raw: string): KeyObject {
  const bytes = Buffer.from(raw, 'base64');
  if (bytes.length !== 32) throw new AppraiseError('INVALID_INPUT', 'an X25519 private key must be 32 bytes (base64)');
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519, bytes]), format: 'der', type: 'pkcs8' });
}

function keyEncryptionKey(shared: Buffer, ephemeral: Buffer, recipient: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeral, recipient]), INFO, 32));
}

/** Encrypts `plaintext` for the holder of `recipientPublicKey` (raw X25519, base64). */
export function seal(plaintext: Uint8Array, recipientPublicKey: string): SealedBox {
  const recipient = publicKeyObject(recipientPublicKey);
  const recipientRaw = rawPublic(recipient);
  const eph = generateKeyPairSync('x25519');
  const ephRaw = rawPublic(eph.publicKey);
  const kek = keyEncryptionKey(diffieHellman({ privateKey: eph.privateKey, publicKey: recipient }), ephRaw, recipientRaw);
  const dataKey = randomBytes(32);
  const wrapIv = randomBytes(12);
  const wrap = createCipheriv('aes-256-gcm', kek, wrapIv);
  const wrapped = Buffer.concat([wrap.update(dataKey), wrap.final()]);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
  cipher.setAAD(Buffer.concat([ephRaw, recipientRaw]));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return {
    format: 'appraise-sealed/1',
    alg: SEALED_ALGORITHM,
    ephemeralPublicKey: ephRaw.toString('base64'),
    recipientPublicKey: recipientRaw.toString('base64'),
    wrappedKey: { iv: wrapIv.toString('base64'), ciphertext: wrapped.toString('base64'), tag: wrap.getAuthTag().toString('base64') },
    payload: { iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64') },
    ciphertext: ciphertext.toString('base64'),
  };
}

/**
 * Decrypts a sealed box with the recipient's private key. BAD_FILE when the box is for another key or any bit of
 * it was changed (GCM authenticates both the wrapped key and the payload).
 */
export function open(box: SealedBox, recipient: X25519KeyPair): Buffer {
  if (box.recipientPublicKey !== recipient.publicKey) {
    throw new AppraiseError('BAD_FILE', 'the file is encrypted for another key (another region or registry); it cannot be decrypted here');
  }
  const ephRaw = Buffer.from(box.ephemeralPublicKey, 'base64');
  const recipientRaw = Buffer.from(box.recipientPublicKey, 'base64');
  try {
    const shared = diffieHellman({ privateKey: privateKeyObject(recipient.privateKey), publicKey: publicKeyObject(box.ephemeralPublicKey) });
    const kek = keyEncryptionKey(shared, ephRaw, recipientRaw);
    const unwrap = createDecipheriv('aes-256-gcm', kek, Buffer.from(box.wrappedKey.iv, 'base64'));
    unwrap.setAuthTag(Buffer.from(box.wrappedKey.tag, 'base64'));
    const dataKey = Buffer.concat([unwrap.update(Buffer.from(box.wrappedKey.ciphertext, 'base64')), unwrap.final()]);
    const decipher = createDecipheriv('aes-256-gcm', dataKey, Buffer.from(box.payload.iv, 'base64'));
    decipher.setAAD(Buffer.concat([ephRaw, recipientRaw]));
    decipher.setAuthTag(Buffer.from(box.payload.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(box.ciphertext, 'base64')), decipher.final()]);
  } catch (e) {
    if (e instanceof AppraiseError) throw e;
    throw new AppraiseError('BAD_FILE', 'the encrypted file failed its integrity check (corrupted or tampered ciphertext); it was not used', { cause: e });
  }
}

/** Parses a sealed box from bytes; BAD_FILE if it is not one. */
export function parseSealedBox(bytes: Uint8Array): SealedBox {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new AppraiseError('BAD_FILE', 'not an encrypted Appraise file (not JSON)');
  }
  const parsed = sealedBoxSchema.safeParse(raw);
  if (!parsed.success) throw new AppraiseError('BAD_FILE', `not an encrypted Appraise file: ${parsed.error.issues[0]?.message ?? 'bad shape'}`);
  return parsed.data;
}
