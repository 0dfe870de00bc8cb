import { test } from 'vitest';

// Electron's safeStorage needs the Electron binary and a logged-in desktop session with a keychain, neither of
// which exists in this environment (no Electron binary is installed; tests run headless). The custody logic it
// plugs into — wrapping, storing per workspace, refusing a key that no longer unlocks — is core's
// WrappedKeyCustody, tested with the plain-Node wrapper in test/security-key-custody.test.ts.
test.skip('keychainCustody wraps the workspace key with Electron safeStorage (needs Electron and an OS keychain)', () => {});
