import type { Command } from 'commander';
import { withServices } from './context.js';
import { printJson } from '../output.js';
import { DATABASE_FILE } from '../../core/workspace/workspace.js';
import { join } from 'node:path';

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
}
