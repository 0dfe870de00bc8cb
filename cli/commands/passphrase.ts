import { readFileSync } from 'node:fs';
import { AppraiseError } from '../../core/common/errors.js';

/** The first line of a passphrase file (a trailing newline from an editor or `echo` is not part of it). */
export function readPassphraseFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new AppraiseError('INVALID_INPUT', `cannot read the passphrase file ${path}: ${(e as Error).message}`);
  }
  const first = text.split(/\r?\n/)[0];
  if (!first) throw new AppraiseError('INVALID_INPUT', `the passphrase file ${path} is empty`);
  return first;
}

/**
 * `--passphrase-file` becomes APPRAISE_WORKSPACE_KEY for this process, so every opener of the workspace (job
 * threads included, which inherit the environment) finds it the same way.
 */
export function applyPassphraseFile(path: string | undefined): void {
  if (path) process.env.APPRAISE_WORKSPACE_KEY = readPassphraseFile(path);
}

/** A passphrase from a file option, else an environment variable; a clear error when neither is given. */
export function requirePassphrase(file: string | undefined, envName: string, what: string, flag: string): string {
  if (file) return readPassphraseFile(file);
  const v = process.env[envName];
  if (v) return v;
  throw new AppraiseError('INVALID_INPUT', `${what} is needed: pass ${flag} FILE or set ${envName}`);
}
