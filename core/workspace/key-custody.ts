import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { AppraiseError } from '../common/errors.js';
import { KEY_FILE, passphraseFromEnv, readKeyFile, unlockKey } from './workspace-key.js';
import type { WorkspaceOpenOptions } from './workspace.js';

/**
 * Where a workspace's key comes from (issue 14, key custody; docs/security.md "Key custody"). The CLI and the web
 * host take a passphrase (typed, `APPRAISE_WORKSPACE_KEY`) or a key file holding one; the desktop app keeps the
 * derived key wrapped by the OS keychain (Electron `safeStorage`, electron/keychain-custody.ts), so the appraiser
 * types the passphrase once per machine instead of at every start.
 */
export interface KeyCustody {
  readonly kind: 'passphrase' | 'key-file' | 'os-keychain';
  /** What `Workspace.open` needs for the workspace in `dir`; null when this custody has nothing for it (ask the person). */
  unlock(dir: string): WorkspaceOpenOptions | null;
  /** Keeps the key `passphrase` derives for `dir` (checked first: LOCKED when it does not unlock it). */
  remember?(dir: string, passphrase: string): void;
  /** Drops what it kept for `dir` (after a rekey, or when the person asks). */
  forget?(dir: string): void;
}

/** A passphrase given for this run: typed, or `APPRAISE_WORKSPACE_KEY`. Never stored. */
export class PassphraseCustody implements KeyCustody {
  readonly kind = 'passphrase' as const;
  constructor(private readonly passphrase: string | undefined = passphraseFromEnv()) {}
  unlock(): WorkspaceOpenOptions | null {
    return this.passphrase === undefined ? null : { passphrase: this.passphrase };
  }
}

/** The first line of a file (`--passphrase-file`): for scripts and servers, kept by the file's permissions. */
export class KeyFileCustody implements KeyCustody {
  readonly kind = 'key-file' as const;
  constructor(private readonly path: string) {}
  unlock(): WorkspaceOpenOptions {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      throw new AppraiseError('INVALID_INPUT', `cannot read the passphrase file ${this.path}: ${(e as Error).message}`);
    }
    const first = text.split(/\r?\n/)[0];
    if (!first) throw new AppraiseError('INVALID_INPUT', `the passphrase file ${this.path} is empty`);
    return { passphrase: first };
  }
}

/**
 * What wraps a secret for this OS user on this machine. Electron's `safeStorage` has exactly this shape (Keychain
 * on macOS, DPAPI on Windows, libsecret/kwallet on Linux); `LocalKeyWrapper` is the plain-Node one.
 */
export interface SecretWrapper {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

/**
 * A SecretWrapper without an OS keychain: AES-256-GCM under a random machine key in a 0600 file outside the
 * workspace (the user's config folder). It keeps the key off the workspace folder — a copied or backed-up
 * workspace does not carry it — but anyone who can read the user's files can unwrap it; the OS keychain is
 * better where there is one.
 */
export class LocalKeyWrapper implements SecretWrapper {
  constructor(private readonly machineKeyPath: string) {}

  isEncryptionAvailable(): boolean {
    return true;
  }

  encryptString(plainText: string): Buffer {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.machineKey(true), nonce);
    const body = Buffer.concat([cipher.update(plainText, 'utf8'), cipher.final()]);
    return Buffer.concat([nonce, body, cipher.getAuthTag()]);
  }

  decryptString(encrypted: Buffer): string {
    if (encrypted.length < 28) throw new AppraiseError('BAD_FILE', 'a stored workspace key is damaged');
    const decipher = createDecipheriv('aes-256-gcm', this.machineKey(false), encrypted.subarray(0, 12));
    decipher.setAuthTag(encrypted.subarray(encrypted.length - 16));
    try {
      return Buffer.concat([decipher.update(encrypted.subarray(12, encrypted.length - 16)), decipher.final()]).toString('utf8');
    } catch {
      throw new AppraiseError('BAD_FILE', 'a stored workspace key does not open with this machine key; give the passphrase again');
    }
  }

  private machineKey(create: boolean): Buffer {
    if (existsSync(this.machineKeyPath)) {
      const key = Buffer.from(readFileSync(this.machineKeyPath, 'utf8').trim(), 'hex');
      if (key.length !== 32) throw new AppraiseError('BAD_FILE', `the machine key ${this.machineKeyPath} is damaged; delete it and give the passphrase again`);
      return key;
    }
    if (!create) throw new AppraiseError('BAD_FILE', `the machine key ${this.machineKeyPath} is missing; give the passphrase again`);
    const key = randomBytes(32);
    writeSecretFile(this.machineKeyPath, `${key.toString('hex')}\n`);
    return key;
  }
}

const storeSchema = z.object({ format: z.literal(1), keys: z.record(z.string(), z.string()) });

function writeSecretFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/**
 * Keeps each workspace's derived database key wrapped by a SecretWrapper in one small file (`storePath`, outside
 * the workspace), keyed by the workspace's folder. The passphrase itself is never kept. A key that no longer
 * unlocks (the passphrase was changed elsewhere) makes `Workspace.open` answer LOCKED; the app then asks for the
 * passphrase and remembers the new key.
 */
export class WrappedKeyCustody implements KeyCustody {
  readonly kind = 'os-keychain' as const;
  constructor(
    private readonly wrapper: SecretWrapper,
    private readonly storePath: string,
  ) {}

  unlock(dir: string): WorkspaceOpenOptions | null {
    if (!this.wrapper.isEncryptionAvailable()) return null;
    const wrapped = this.read().keys[resolve(dir)];
    if (!wrapped) return null;
    const hex = this.wrapper.decryptString(Buffer.from(wrapped, 'base64'));
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new AppraiseError('BAD_FILE', 'a stored workspace key is damaged; give the passphrase again');
    return { key: Buffer.from(hex, 'hex') };
  }

  remember(dir: string, passphrase: string): void {
    if (!this.wrapper.isEncryptionAvailable()) {
      throw new AppraiseError('CONFLICT', "this computer's keychain is not available, so the passphrase cannot be remembered; give it at each start");
    }
    const keyPath = join(dir, KEY_FILE);
    if (!existsSync(keyPath)) throw new AppraiseError('CONFLICT', `the workspace at ${dir} is not encrypted; there is no key to remember`);
    const key = unlockKey(passphrase, readKeyFile(keyPath));
    const store = this.read();
    store.keys[resolve(dir)] = this.wrapper.encryptString(key.toString('hex')).toString('base64');
    writeSecretFile(this.storePath, `${JSON.stringify(store, null, 2)}\n`);
  }

  forget(dir: string): void {
    const store = this.read();
    if (!(resolve(dir) in store.keys)) return;
    delete store.keys[resolve(dir)];
    writeSecretFile(this.storePath, `${JSON.stringify(store, null, 2)}\n`);
  }

  private read(): z.output<typeof storeSchema> {
    if (!existsSync(this.storePath)) return { format: 1, keys: {} };
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.storePath, 'utf8'));
    } catch {
      raw = null;
    }
    const parsed = storeSchema.safeParse(raw);
    if (!parsed.success)
      throw new AppraiseError('BAD_FILE', `the stored workspace keys in ${this.storePath} are damaged; delete the file and give the passphrase again`);
    return parsed.data;
  }
}
