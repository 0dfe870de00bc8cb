import { expect, test } from 'vitest';
import { generateX25519KeyPair, open, parseSealedBox, seal } from './sealed-box.js';

const message = Buffer.from('a model bundle, or a monitoring report');

test('a sealed box opens with the recipient key and only with it', () => {
  const region = generateX25519KeyPair();
  const other = generateX25519KeyPair();
  const box = seal(message, region.publicKey);
  expect(open(box, region).equals(message)).toBe(true);
  // Fresh data key and ephemeral key each time: the same plaintext never gives the same ciphertext.
  expect(seal(message, region.publicKey).ciphertext).not.toBe(box.ciphertext);
  expect(() => open(box, other)).toThrow(/encrypted for another key/);
  // Relabelling the box for the other key does not help: the agreement fails to authenticate.
  expect(() => open({ ...box, recipientPublicKey: other.publicKey }, other)).toThrow(/integrity check/);
});

test('any flipped bit in the ciphertext, tag, wrapped key or ephemeral key is refused', () => {
  const key = generateX25519KeyPair();
  const box = seal(message, key.publicKey);
  const flip = (b64: string, at: number) => {
    const b = Buffer.from(b64, 'base64');
    b[at % b.length] ^= 0x01;
    return b.toString('base64');
  };
  expect(() => open({ ...box, ciphertext: flip(box.ciphertext, 5) }, key)).toThrow(/integrity check/);
  expect(() => open({ ...box, payload: { ...box.payload, tag: flip(box.payload.tag, 0) } }, key)).toThrow(/integrity check/);
  expect(() => open({ ...box, wrappedKey: { ...box.wrappedKey, ciphertext: flip(box.wrappedKey.ciphertext, 3) } }, key)).toThrow(/integrity check/);
  expect(() => open({ ...box, ephemeralPublicKey: flip(box.ephemeralPublicKey, 7) }, key)).toThrow(/integrity check/);
});

test('bytes that are not a sealed box are refused with a reason', () => {
  expect(() => parseSealedBox(Buffer.from('not json'))).toThrow(/not an encrypted Appraise file/);
  expect(() => parseSealedBox(Buffer.from('{"format":"zip"}'))).toThrow(/not an encrypted Appraise file/);
});
