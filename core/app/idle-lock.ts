import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AppraiseError } from '../common/errors.js';
import { KEY_FILE, passphraseMatches, readKeyFile } from '../workspace/workspace-key.js';

/** Minutes of idle before the lock from `APPRAISE_IDLE_LOCK_MINUTES`; undefined when unset or not a positive number. */
export function idleLockMinutesFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const n = Number(env.APPRAISE_IDLE_LOCK_MINUTES);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * What unlocks an idle-locked session: the workspace passphrase of an encrypted workspace, checked against its key
 * file each time (the passphrase is not kept), else the lock passphrase in $APPRAISE_LOCK_PASSPHRASE. Without
 * either there is nothing to unlock with, so the lock is refused at start rather than locking people out.
 */
export function idleLockVerifier(workspaceDir: string, env: NodeJS.ProcessEnv = process.env): (secret: string) => boolean {
  const keyPath = join(workspaceDir, KEY_FILE);
  if (existsSync(keyPath)) {
    const keyFile = readKeyFile(keyPath);
    return (secret) => passphraseMatches(secret, keyFile);
  }
  const lockPassphrase = env.APPRAISE_LOCK_PASSPHRASE;
  if (lockPassphrase && lockPassphrase.length >= 8) {
    const digest = (t: string) => createHash('sha256').update(t.normalize('NFC')).digest();
    const expected = digest(lockPassphrase);
    return (secret) => timingSafeEqual(digest(secret), expected);
  }
  throw new AppraiseError(
    'INVALID_INPUT',
    'the idle lock needs a passphrase to unlock with: encrypt the workspace (appraise workspace encrypt) or set APPRAISE_LOCK_PASSPHRASE (at least 8 characters)',
  );
}
