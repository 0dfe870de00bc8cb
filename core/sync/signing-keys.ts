import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { AppraiseError } from '../common/errors.js';

/**
 * Ed25519 keys as TUF writes them: the public key as 64 hex characters (`keyval.public`), the key id the sha256
 * of the key's canonical JSON. The private key is kept as 64 hex characters of its seed, in a file its custodian
 * holds (root keys offline, the publisher's on the analyst's machine, the online key in the registry).
 */
export const ed25519KeySchema = z.object({
  keyType: z.literal('ed25519'),
  keyId: z.string().regex(/^[0-9a-f]{64}$/),
  publicKey: z.string().regex(/^[0-9a-f]{64}$/, 'an Ed25519 public key is 64 hex characters'),
  privateKey: z.string().regex(/^[0-9a-f]{64}$/, 'an Ed25519 private key is 64 hex characters'),
});
export type Ed25519Key = z.output<typeof ed25519KeySchema>;

const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

/** TUF key id: sha256 over the canonical JSON of the public key (keys already in sorted order). */
export function tufKeyId(publicKeyHex: string): string {
  return createHash('sha256').update(`{"keytype":"ed25519","keyval":{"public":"${publicKeyHex}"},"scheme":"ed25519"}`).digest('hex');
}

export function generateEd25519Key(): Ed25519Key {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519.length).toString('hex');
  const priv = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_ED25519.length).toString('hex');
  return { keyType: 'ed25519', keyId: tufKeyId(pub), publicKey: pub, privateKey: priv };
}

export function privateKeyObject(key: Ed25519Key): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, Buffer.from(key.privateKey, 'hex')]), format: 'der', type: 'pkcs8' });
}

export function publicKeyObject(publicKeyHex: string): KeyObject {
  if (!/^[0-9a-f]{64}$/.test(publicKeyHex)) throw new AppraiseError('INVALID_INPUT', 'an Ed25519 public key is 64 hex characters');
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519, Buffer.from(publicKeyHex, 'hex')]), format: 'der', type: 'spki' });
}

export function signBytes(key: Ed25519Key, data: Uint8Array): string {
  return sign(null, data, privateKeyObject(key)).toString('hex');
}

export function verifyBytes(publicKeyHex: string, data: Uint8Array, signatureHex: string): boolean {
  try {
    return verify(null, data, publicKeyObject(publicKeyHex), Buffer.from(signatureHex, 'hex'));
  } catch {
    return false;
  }
}

/** Reads a key file written by `appraise registry keygen`; INVALID_INPUT saying what is wrong otherwise. */
export function parseEd25519Key(text: string, what: string): Ed25519Key {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new AppraiseError('INVALID_INPUT', `${what} is not a key file (not JSON)`);
  }
  const parsed = ed25519KeySchema.safeParse(raw);
  if (!parsed.success)
    throw new AppraiseError(
      'INVALID_INPUT',
      `${what} is not an Ed25519 key file: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  if (tufKeyId(parsed.data.publicKey) !== parsed.data.keyId) throw new AppraiseError('INVALID_INPUT', `${what}: the key id does not match the public key`);
  return parsed.data;
}
