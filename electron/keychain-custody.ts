import { app, safeStorage } from 'electron';
import { join } from 'node:path';
import { WrappedKeyCustody } from '../core/workspace/key-custody.js';

/**
 * The desktop app's key custody: each encrypted workspace's derived key, wrapped by Electron `safeStorage` (the OS
 * keychain: Keychain on macOS, DPAPI on Windows, libsecret/kwallet on Linux) in `<userData>/workspace-keys.json`.
 * The logic (what is stored, checked and refused) is core's WrappedKeyCustody, tested there with the plain-Node
 * wrapper; this file only supplies safeStorage, which exists only in Electron's main process.
 *
 * On Linux without a secret service, safeStorage falls back to a hard-coded password ("basic_text"): the key would
 * be wrapped in name only, so custody is refused there and the passphrase is asked at each start.
 */
export function keychainCustody(): WrappedKeyCustody {
  const wrapper = {
    isEncryptionAvailable: () =>
      safeStorage.isEncryptionAvailable() && (process.platform !== 'linux' || safeStorage.getSelectedStorageBackend() !== 'basic_text'),
    encryptString: (text: string) => safeStorage.encryptString(text),
    decryptString: (encrypted: Buffer) => safeStorage.decryptString(encrypted),
  };
  return new WrappedKeyCustody(wrapper, join(app.getPath('userData'), 'workspace-keys.json'));
}
