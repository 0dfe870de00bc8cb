import type { Command } from 'commander';
import { serveUntilSignal } from '../../core/app/serve-web-app.js';
import { globals } from './context.js';
import { roleSchema, type Role } from '../../core/contract/roles.js';
import { AppraiseError } from '../../core/common/errors.js';
import { idleLockMinutesFromEnv } from '../../core/app/idle-lock.js';

/** `appraise serve`: registered by cli/main.ts. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the Appraise app on 127.0.0.1 for a browser; prints the address to open (with its access token)')
    .option('-p, --port <n>', 'port (default: a free one)', (v) => Number.parseInt(v, 10))
    .option('--demo', 'on an empty workspace, import the bundled King County data and demo model first', false)
    .option(
      '--allow-dir <dir>',
      "a folder the app may read files from and write files to (repeatable); default: only the workspace's files/ folder",
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option(
      '--role <role>',
      'what the browser session may do: appraiser (value, save, export, read) or analyst (also ingest, train, promote, settings, sync)',
      'analyst',
    )
    .option(
      '--idle-lock <minutes>',
      'lock the session after this many minutes without use (default $APPRAISE_IDLE_LOCK_MINUTES; off); the workspace passphrase, or $APPRAISE_LOCK_PASSPHRASE for a plain workspace, unlocks it',
    )
    .action(async (opts: { port?: number; demo: boolean; allowDir: string[]; role: string; idleLock?: string }, cmd: Command) => {
      const g = globals(cmd);
      const role = roleSchema.safeParse(opts.role);
      if (!role.success) throw new AppraiseError('INVALID_INPUT', `--role must be appraiser or analyst, not "${opts.role.slice(0, 40)}"`);
      const chosen: Role = role.data;
      const idleLockMinutes = opts.idleLock === undefined ? idleLockMinutesFromEnv() : Number(opts.idleLock);
      if (idleLockMinutes !== undefined && !(idleLockMinutes > 0 && idleLockMinutes <= 24 * 60)) {
        throw new AppraiseError('INVALID_INPUT', `--idle-lock is a number of minutes between 1 and 1440, not "${String(opts.idleLock).slice(0, 40)}"`);
      }
      await serveUntilSignal({
        workspace: g.workspace,
        port: opts.port,
        demo: opts.demo,
        quiet: g.quiet || g.json,
        allowDirs: opts.allowDir,
        role: chosen,
        idleLockMinutes,
      });
    });
}
