import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { globals } from './context.js';
import { printJson } from '../output.js';
import { requirePassphrase } from './passphrase.js';
import { resolveWorkspaceDir } from '../../core/workspace/workspace.js';
import { createBackup, readBackup, restoreBackup } from '../../core/workspace/workspace-backup.js';

const PASSPHRASE_HELP = 'the passphrase from --passphrase-file or $APPRAISE_WORKSPACE_KEY seals the backup (and unlocks an encrypted workspace)';

function passphrase(): string {
  return requirePassphrase(undefined, 'APPRAISE_WORKSPACE_KEY', 'a passphrase for the backup', '--passphrase-file');
}

/** `appraise backup create|verify|restore`: one encrypted file holding the database snapshot and the artifacts. */
export function registerBackupCommands(program: Command): void {
  const backup = program.command('backup').description('back up the workspace to one encrypted file, check a backup, or restore one');
  backup
    .command('create')
    .description(`write a consistent snapshot (safe while the app runs) and the artifacts to one file; ${PASSPHRASE_HELP}`)
    .option('--to <file>', 'where to write it (default: appraise-backup-<time>.appraise-backup in the current folder)')
    .action((opts: { to?: string }, cmd: Command) => {
      const o = globals(cmd);
      const to = resolve(opts.to ?? join(process.cwd(), `appraise-backup-${new Date().toISOString().replace(/[:.]/g, '-')}.appraise-backup`));
      const r = createBackup(resolveWorkspaceDir(o.workspace), to, passphrase());
      if (o.json) printJson({ file: r.file, bytes: r.bytes, createdAt: r.createdAt, files: r.files.length, encryptedWorkspace: r.encryptedWorkspace });
      else if (!o.quiet) process.stdout.write(`Backup written to ${r.file} (${r.files.length} files, ${r.bytes} bytes)\n`);
    });
  backup
    .command('verify')
    .argument('<file>', 'the backup file')
    .description('check that a backup opens with the passphrase, was not changed, and every file matches its hash')
    .action((file: string, _opts, cmd: Command) => {
      const o = globals(cmd);
      const { manifest } = readBackup(resolve(file), passphrase());
      if (o.json) printJson({ ok: true, ...manifest });
      else if (!o.quiet) process.stdout.write(`Backup ${file} is intact: ${manifest.files.length} files from ${manifest.createdAt}\n`);
    });
  backup
    .command('restore')
    .argument('<file>', 'the backup file')
    .description('restore a backup into the workspace folder (-w), which must be new or empty unless --force; checked before anything is replaced')
    .option('--force', 'replace an existing workspace', false)
    .action((file: string, opts: { force: boolean }, cmd: Command) => {
      const o = globals(cmd);
      const target = resolveWorkspaceDir(o.workspace);
      const manifest = restoreBackup(resolve(file), target, passphrase(), { force: opts.force });
      if (o.json) printJson({ restored: target, ...manifest });
      else if (!o.quiet) process.stdout.write(`Restored ${manifest.files.length} files from ${manifest.createdAt} into ${target}\n`);
    });
}
