import type { Command } from 'commander';
import { globals, withServices } from './context.js';
import { requirePassphrase } from './passphrase.js';
import { encryptWorkspace, rekeyWorkspace, type EncryptionResult } from '../../core/workspace/workspace-encryption.js';
import { resolveWorkspaceDir } from '../../core/workspace/workspace.js';
import { printJson } from '../output.js';
import { DATABASE_FILE } from '../../core/workspace/workspace.js';
import { join } from 'node:path';
import { openDatasetServices } from '../../core/services/open-datasets.js';

/**
 * Records a key change in the workspace's own audit trail, opened with the new passphrase (the change is done and
 * verified by then; an entry that cannot be written does not undo it, and says so).
 */
function recordKeyChange(dir: string, passphrase: string, kind: 'encrypt' | 'rekey', r: EncryptionResult): void {
  try {
    const s = openDatasetServices(dir, { passphrase });
    try {
      s.audit.record({ action: 'key.change', ids: { kind, cipher: 'chacha20+aes-256-gcm', artifacts: r.artifacts }, outcome: 'ok' });
    } finally {
      s.close();
    }
  } catch (e) {
    process.stderr.write(`appraise: the key change is done, but it could not be recorded in the audit trail: ${(e as Error).message}\n`);
  }
}

export function registerWorkspaceCommands(program: Command): void {
  program
    .command('init')
    .description('create (or upgrade) the workspace: a SQLite database and an artifact folder')
    .action(async (_opts, cmd: Command) => {
      await withServices(cmd, (s, o) => {
        const info = {
          workspace: s.workspace.dir,
          database: join(s.workspace.dir, DATABASE_FILE),
          artifacts: s.workspace.artifacts.root,
          schemaVersion: s.workspace.schemaVersion,
          encrypted: s.workspace.encrypted,
          migrationsApplied: s.workspace.migrationsApplied,
        };
        if (o.json) printJson(info);
        else {
          process.stdout.write(
            `Workspace ready at ${info.workspace}\n  database  ${info.database} (schema v${info.schemaVersion})\n  artifacts ${info.artifacts}\n`,
          );
          if (info.migrationsApplied.length > 0) process.stdout.write(`  applied migrations ${info.migrationsApplied.join(', ')}\n`);
        }
      });
    });

  const workspace = program.command('workspace').description('encrypt the workspace at rest or change its passphrase');
  const report = (o: { json?: boolean; quiet?: boolean }, what: string, r: EncryptionResult) => {
    if (o.json) printJson(r);
    else if (!o.quiet)
      process.stdout.write(`${what} ${r.database}: ${r.tables} tables, ${r.rows} rows checked against the original; ${r.artifacts} artifacts sealed\n`);
  };
  workspace
    .command('encrypt')
    .description(
      'encrypt a plain workspace with the passphrase from --passphrase-file or $APPRAISE_WORKSPACE_KEY (close the app first; the original is replaced only after the encrypted copy is verified)',
    )
    .action((_opts, cmd: Command) => {
      const o = globals(cmd);
      const passphrase = requirePassphrase(undefined, 'APPRAISE_WORKSPACE_KEY', 'the new passphrase', '--passphrase-file');
      const dir = resolveWorkspaceDir(o.workspace);
      const r = encryptWorkspace(dir, passphrase);
      recordKeyChange(dir, passphrase, 'encrypt', r);
      report(o, 'Encrypted', r);
    });
  workspace
    .command('rekey')
    .description('change the passphrase of an encrypted workspace (current one from --passphrase-file or $APPRAISE_WORKSPACE_KEY)')
    .option('--new-passphrase-file <file>', 'the new passphrase (default: $APPRAISE_NEW_WORKSPACE_KEY)')
    .action((opts: { newPassphraseFile?: string }, cmd: Command) => {
      const o = globals(cmd);
      const current = requirePassphrase(undefined, 'APPRAISE_WORKSPACE_KEY', 'the current passphrase', '--passphrase-file');
      const next = requirePassphrase(opts.newPassphraseFile, 'APPRAISE_NEW_WORKSPACE_KEY', 'the new passphrase', '--new-passphrase-file');
      const dir = resolveWorkspaceDir(o.workspace);
      const r = rekeyWorkspace(dir, current, next);
      recordKeyChange(dir, next, 'rekey', r);
      report(o, 'Re-keyed', r);
    });
}
