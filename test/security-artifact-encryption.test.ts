import { test, expect, afterAll } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, repoRoot, kcCsv } from './helpers/temp-workspace.js';
import { errorOf } from './helpers/workspace-fingerprint.js';
import { openServices } from '../core/services/open-workspace.js';
import { Workspace } from '../core/workspace/workspace.js';
import { ArtifactStore } from '../core/workspace/artifact-store.js';
import { encryptWorkspace, rekeyWorkspace } from '../core/workspace/workspace-encryption.js';
import { SEAL_MAGIC, artifactKeyOf, isSealed, openWithPassphrase, sealArtifact, sealWithPassphrase } from '../core/common/sealed-file.js';

const { dir, cleanup } = tempDir('appraise-artifact-crypto-');
afterAll(cleanup);

const PASS = 'correct horse battery';
const bundled = join(repoRoot, 'models', 'king-county');
const onnxBytes = readFileSync(join(bundled, 'model.onnx'));
const onnxSha = createHash('sha256').update(onnxBytes).digest('hex');
const kcLines = readFileSync(kcCsv, 'utf8').split(/\r?\n/, 3);
const house: Record<string, string> = Object.fromEntries(kcLines[0].split(',').map((h, i) => [h, kcLines[1].split(',')[i]]));
delete house.price;

async function withModel(name: string): Promise<{ ws: string; modelId: string; estimate: number }> {
  const ws = join(dir, name);
  const s = openServices(ws);
  try {
    const modelId = s.models.importFrom(join(bundled, 'model.onnx'), join(bundled, 'manifest.json')).id;
    const { estimate } = await s.valuation.value(modelId, house, { log: false });
    return { ws, modelId, estimate };
  } finally {
    await s.close();
  }
}

function artifactFiles(ws: string): string[] {
  const store = new ArtifactStore(join(ws, 'artifacts'));
  return store.list().map((sha) => store.pathOf(sha));
}

test('encrypting a workspace seals every artifact with AES-256-GCM; the model still loads and values', async () => {
  const { ws, modelId, estimate } = await withModel('enc');
  const files = artifactFiles(ws);
  expect(files.length).toBeGreaterThanOrEqual(2);
  // Before: the ONNX file is stored as is (the check below can fail).
  expect(files.some((f) => readFileSync(f).equals(onnxBytes))).toBe(true);

  const result = encryptWorkspace(ws, PASS);
  expect(result.artifacts).toBe(files.length);
  for (const f of artifactFiles(ws)) {
    const bytes = readFileSync(f);
    expect(bytes.subarray(0, 8).equals(SEAL_MAGIC), f).toBe(true);
    expect(bytes.includes(onnxBytes.subarray(0, 64)), f).toBe(false);
    expect(bytes.includes('"features"'), f).toBe(false);
    expect(statSync(f).mode & 0o077, f).toBe(0);
  }

  const s = openServices(ws, { passphrase: PASS });
  try {
    expect(s.models.manifest(modelId).modelId).toBe(modelId);
    // The sealed ONNX file decrypts into the same model: the same house gets the same estimate.
    expect((await s.valuation.value(modelId, house, { log: false })).estimate).toBe(estimate);
  } finally {
    await s.close();
  }
}, 60_000);

test('a changed byte, a cut file or a file moved under another name fails the integrity check (BAD_FILE)', () => {
  const root = join(dir, 'tamper');
  const key = artifactKeyOf(randomBytes(32));
  const store = new ArtifactStore(root, key);
  const a = store.put(Buffer.from('first artifact, a manifest perhaps'));
  const b = store.put(Buffer.from('second artifact, a model perhaps'));
  expect(store.get(a).toString()).toBe('first artifact, a manifest perhaps');

  const pa = store.pathOf(a);
  const original = readFileSync(pa);
  for (const at of [9, 12, 30, original.length - 1]) {
    const bad = Buffer.from(original);
    bad[at] ^= 0x01;
    writeFileSync(pa, bad);
    const e = errorOf(() => store.get(a));
    expect(e.code, `byte ${at}`).toBe('BAD_FILE');
    expect(e.message).toMatch(/failed its integrity check|cannot|format/);
  }
  writeFileSync(pa, original.subarray(0, original.length - 5));
  expect(errorOf(() => store.get(a)).code).toBe('BAD_FILE');

  // Both files authentic, but swapped: the address is authenticated, so neither decrypts under the other's name.
  writeFileSync(pa, original);
  const pb = store.pathOf(b);
  const tmp = `${pa}.x`;
  renameSync(pa, tmp);
  renameSync(pb, pa);
  renameSync(tmp, pb);
  expect(errorOf(() => store.get(a)).code).toBe('BAD_FILE');
  expect(errorOf(() => store.get(b)).code).toBe('BAD_FILE');
  // Putting the genuine bytes again repairs it.
  store.put(Buffer.from('first artifact, a manifest perhaps'));
  expect(store.get(a).toString()).toBe('first artifact, a manifest perhaps');

  // Another workspace's key cannot read it, and a plain store says the file is encrypted.
  expect(errorOf(() => new ArtifactStore(root, artifactKeyOf(randomBytes(32))).get(a)).code).toBe('BAD_FILE');
  expect(errorOf(() => new ArtifactStore(root).get(a)).message).toMatch(/is encrypted, but this workspace is not/);
});

test('a plain artifact in an encrypted workspace reads as it is and is sealed in place on open', async () => {
  const { ws } = await withModel('migrate');
  encryptWorkspace(ws, PASS);
  // A plain copy of the ONNX file put back (as an older version, or a crash before sealing, would leave it).
  const p = new ArtifactStore(join(ws, 'artifacts')).pathOf(onnxSha);
  writeFileSync(p, onnxBytes);
  Workspace.open(ws, { passphrase: PASS }).close();
  expect(isSealed(readFileSync(p))).toBe(true); // opening the workspace sealed it in place
  expect(readFileSync(p).includes(onnxBytes.subarray(0, 64))).toBe(false);
  const w0 = Workspace.open(ws, { passphrase: PASS });
  expect(w0.artifacts.get(onnxSha).equals(onnxBytes)).toBe(true);
  w0.close();
  // Before it is sealed, a store with the key reads a plain file as it is (its hash checked).
  const root = join(dir, 'plain-in-keyed');
  const key = artifactKeyOf(randomBytes(32));
  const plainSha = new ArtifactStore(root).put(Buffer.from('written before encryption'));
  const keyedStore = new ArtifactStore(root, key);
  expect(keyedStore.get(plainSha).toString()).toBe('written before encryption');
  expect(isSealed(readFileSync(keyedStore.pathOf(plainSha)))).toBe(false);
  expect(keyedStore.sealPlainArtifacts()).toBe(1);
  expect(isSealed(readFileSync(keyedStore.pathOf(plainSha)))).toBe(true);
  expect(keyedStore.get(plainSha).toString()).toBe('written before encryption');
  // A plain file with a wrong hash is left alone by the migration and reported on read.
  const damaged = Buffer.from(onnxBytes);
  damaged[100] ^= 0xff;
  writeFileSync(p, damaged);
  const w1 = Workspace.open(ws, { passphrase: PASS });
  expect(readFileSync(p).equals(damaged)).toBe(true);
  expect(errorOf(() => w1.artifacts.get(onnxSha)).code).toBe('BAD_FILE');
  w1.close();
}, 60_000);

test('rekey re-seals every artifact under the new key; an interrupted rotation finishes or rolls back on open', async () => {
  const { ws, modelId } = await withModel('rekey');
  encryptWorkspace(ws, PASS);
  const before = new Map(artifactFiles(ws).map((f) => [f, readFileSync(f)]));
  const r = rekeyWorkspace(ws, PASS, 'a brand new passphrase');
  expect(r.artifacts).toBe(before.size);
  for (const [f, bytes] of before) expect(readFileSync(f).equals(bytes), f).toBe(false);
  const s = openServices(ws, { passphrase: 'a brand new passphrase' });
  expect(s.models.manifest(modelId).modelId).toBe(modelId);
  await s.close();

  // The two halves of a rotation on the store itself: staged under key B, then the process died.
  const root = join(dir, 'rotation');
  const [keyA, keyB] = [artifactKeyOf(randomBytes(32)), artifactKeyOf(randomBytes(32))];
  const sha = new ArtifactStore(root, keyA).put(Buffer.from('model bytes'));
  new ArtifactStore(root, keyA).stageRekey(keyB);
  // Died before the database switched: opening with key A drops the staged files and still reads.
  expect(new ArtifactStore(root, keyA).settleRekey()).toBe(0);
  expect(new ArtifactStore(root, keyA).get(sha).toString()).toBe('model bytes');
  // Died after the switch: opening with key B moves the staged files into place.
  new ArtifactStore(root, keyA).stageRekey(keyB);
  expect(new ArtifactStore(root, keyB).settleRekey()).toBe(1);
  expect(new ArtifactStore(root, keyB).get(sha).toString()).toBe('model bytes');
  expect(errorOf(() => new ArtifactStore(root, keyA).get(sha)).code).toBe('BAD_FILE');
}, 60_000);

test('passphrase-sealed exports: round trip, wrong passphrase LOCKED, any changed byte BAD_FILE, hostile header refused fast', () => {
  const plain = Buffer.from(JSON.stringify({ entries: [1, 2, 3], note: 'for the reviewer' }));
  const sealed = sealWithPassphrase('reviewer passphrase', plain);
  expect(sealed.includes('for the reviewer')).toBe(false);
  expect(openWithPassphrase('reviewer passphrase', sealed).equals(plain)).toBe(true);
  expect(errorOf(() => openWithPassphrase('another passphrase', sealed)).code).toBe('LOCKED');
  for (const at of [10, 14, 30, 46, 60, sealed.length - 1]) {
    const bad = Buffer.from(sealed);
    bad[at] ^= 0x04;
    const e = errorOf(() => openWithPassphrase('reviewer passphrase', bad));
    // The salt and check are inputs to the passphrase check, so a change there reads as a wrong passphrase.
    expect(['BAD_FILE', 'LOCKED'], `byte ${at}`).toContain(e.code);
    if (at >= 45) expect(e.code, `byte ${at}`).toBe('BAD_FILE');
  }
  // scrypt N=2^30, r=255 would ask for 32 TiB: refused before any derivation.
  const hostile = Buffer.from(sealed);
  hostile[10] = 30;
  hostile[11] = 255;
  const t0 = Date.now();
  expect(errorOf(() => openWithPassphrase('reviewer passphrase', hostile)).message).toMatch(/cannot run/);
  expect(Date.now() - t0).toBeLessThan(2000);
  expect(errorOf(() => openWithPassphrase('x', Buffer.from('{"not":"sealed"}'))).code).toBe('BAD_FILE');
  const artifact = sealArtifact(artifactKeyOf(randomBytes(32)), onnxSha, Buffer.from('x'));
  expect(errorOf(() => openWithPassphrase('reviewer passphrase', artifact)).message).toMatch(/workspace artifact/);
});
