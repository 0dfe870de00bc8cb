import { test, expect, afterAll } from 'vitest';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/temp-workspace.js';
import { errorOf } from './helpers/workspace-fingerprint.js';
import { Workspace } from '../core/workspace/workspace.js';
import { encryptWorkspace, rekeyWorkspace } from '../core/workspace/workspace-encryption.js';
import { KeyFileCustody, LocalKeyWrapper, PassphraseCustody, WrappedKeyCustody } from '../core/workspace/key-custody.js';

const { dir, cleanup } = tempDir('appraise-custody-');
afterAll(cleanup);

const PASS = 'correct horse battery';

function encrypted(name: string): string {
  const ws = join(dir, name);
  const w = Workspace.open(ws, { passphrase: undefined });
  w.db.exec("CREATE TABLE IF NOT EXISTS custody_probe (x TEXT); INSERT INTO custody_probe VALUES ('kept')");
  w.close();
  encryptWorkspace(ws, PASS);
  return ws;
}

test('passphrase and key-file custody open the workspace; an empty or missing file is a clear input error', () => {
  const ws = encrypted('pass');
  expect(new PassphraseCustody(undefined).unlock()).toBeNull();
  const w = Workspace.open(ws, new PassphraseCustody(PASS).unlock() ?? {});
  expect(w.db.prepare('SELECT x FROM custody_probe').pluck().get()).toBe('kept');
  w.close();
  const file = join(dir, 'pass.txt');
  writeFileSync(file, `${PASS}\n`, { mode: 0o600 });
  Workspace.open(ws, new KeyFileCustody(file).unlock()).close();
  writeFileSync(file, '');
  expect(errorOf(() => new KeyFileCustody(file).unlock()).message).toMatch(/is empty/);
  expect(errorOf(() => new KeyFileCustody(join(dir, 'none.txt')).unlock()).code).toBe('INVALID_INPUT');
});

test('wrapped-key custody: remembers the derived key (never the passphrase), opens with it, and a stale key is LOCKED', () => {
  const ws = encrypted('wrapped');
  const machineKey = join(dir, 'config', 'machine.key');
  const store = join(dir, 'config', 'workspace-keys.json');
  const custody = new WrappedKeyCustody(new LocalKeyWrapper(machineKey), store);
  expect(custody.unlock(ws)).toBeNull(); // nothing kept yet: ask the person
  expect(errorOf(() => custody.remember(ws, 'not the passphrase')).code).toBe('LOCKED');
  custody.remember(ws, PASS);
  const text = readFileSync(store, 'utf8');
  expect(text).not.toContain(PASS);
  expect(statSync(store).mode & 0o077).toBe(0);
  expect(statSync(machineKey).mode & 0o077).toBe(0);

  const options = custody.unlock(ws);
  expect(options?.key?.length).toBe(32);
  const w = Workspace.open(ws, { ...options, passphrase: undefined });
  expect(w.encrypted).toBe(true);
  expect(w.db.prepare('SELECT x FROM custody_probe').pluck().get()).toBe('kept');
  w.close();

  // Without the machine key the stored key cannot be unwrapped: a copied key store alone opens nothing.
  expect(errorOf(() => new WrappedKeyCustody(new LocalKeyWrapper(join(dir, 'other.key')), store).unlock(ws)).code).toBe('BAD_FILE');

  // After a rekey the kept key no longer unlocks: LOCKED in words, and remembering the new passphrase fixes it.
  rekeyWorkspace(ws, PASS, 'the new passphrase');
  const stale = errorOf(() => Workspace.open(ws, { ...custody.unlock(ws), passphrase: undefined }));
  expect(stale.code).toBe('LOCKED');
  expect(stale.message).toMatch(/stored key does not unlock/);
  custody.remember(ws, 'the new passphrase');
  Workspace.open(ws, { ...custody.unlock(ws), passphrase: undefined }).close();
  custody.forget(ws);
  expect(custody.unlock(ws)).toBeNull();

  // A keychain that is not available: nothing is unwrapped or stored.
  const unavailable = new WrappedKeyCustody(
    { isEncryptionAvailable: () => false, encryptString: () => Buffer.alloc(0), decryptString: () => '' },
    join(dir, 'none.json'),
  );
  expect(unavailable.unlock(ws)).toBeNull();
  expect(errorOf(() => unavailable.remember(ws, 'the new passphrase')).code).toBe('CONFLICT');
});
