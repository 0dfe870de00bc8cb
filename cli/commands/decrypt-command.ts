import type { Command } from 'commander';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { globals } from './context.js';
import { printJson } from '../output.js';
import { requirePassphrase } from './passphrase.js';
import { AppraiseError } from '../../core/common/errors.js';
import { openWithPassphrase } from '../../core/common/sealed-file.js';

/**
 * `appraise decrypt FILE`: opens a file Appraise sealed with a passphrase (an encrypted audit export; the format is
 * in docs/security.md, "Sealed files"). Needs no workspace, so a reviewer can run it on their own machine.
 */
export function registerDecryptCommand(program: Command): void {
  program
    .command('decrypt')
    .argument('<file>', 'a file Appraise encrypted with a passphrase (e.g. audit export --encrypt)')
    .description('decrypt a passphrase-encrypted export with the passphrase from --export-passphrase-file or $APPRAISE_EXPORT_PASSPHRASE')
    .option('--export-passphrase-file <file>', 'the passphrase the sender gave you (default: $APPRAISE_EXPORT_PASSPHRASE)')
    .option('--out <file>', 'write the plaintext here (default: standard output)')
    .action((file: string, opts: { exportPassphraseFile?: string; out?: string }, cmd: Command) => {
      const o = globals(cmd);
      const path = resolve(file);
      let bytes: Buffer;
      try {
        bytes = readFileSync(path);
      } catch (e) {
        throw new AppraiseError(
          'INVALID_INPUT',
          `cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
        );
      }
      const passphrase = requirePassphrase(opts.exportPassphraseFile, 'APPRAISE_EXPORT_PASSPHRASE', 'the passphrase of the file', '--export-passphrase-file');
      // Nothing is written unless the whole file authenticates.
      const plain = openWithPassphrase(passphrase, bytes, path);
      if (!opts.out) {
        process.stdout.write(plain);
        return;
      }
      const out = resolve(opts.out);
      const tmp = `${out}.${process.pid}.tmp`;
      try {
        writeFileSync(tmp, plain, { mode: 0o600, flag: 'wx' });
        renameSync(tmp, out);
      } catch (e) {
        throw new AppraiseError('INVALID_INPUT', `cannot write ${out}: ${(e as Error).message}; choose a folder you can write to`);
      }
      if (o.json) printJson({ file: out, bytes: plain.length });
      else if (!o.quiet) process.stderr.write(`decrypted ${path} to ${out} (${plain.length} bytes)\n`);
    });
}
