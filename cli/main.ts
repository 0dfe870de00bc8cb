import { Command, CommanderError } from 'commander';
import { AppraiseError, serializeError } from '../core/common/errors.js';
import { exitCodeFor } from './output.js';
import { registerWorkspaceCommands } from './commands/workspace-commands.js';
import { registerBackupCommands } from './commands/backup-commands.js';
import { applyPassphraseFile } from './commands/passphrase.js';
import { globals } from './commands/context.js';
import { registerDatasetCommands } from './commands/dataset-commands.js';
import { registerDemoCommand } from './commands/demo-command.js';
import { registerModelCommands } from './commands/model-commands.js';
import { registerValuationCommands } from './commands/valuation-commands.js';
import { registerServeCommand } from './commands/serve-command.js';
import { registerLogsCommand } from './commands/logs-command.js';
import { registerRegistryCommands } from './commands/registry-commands.js';
import { registerMonitorCommand } from './commands/monitor-command.js';
import { registerAuditCommands } from './commands/audit-commands.js';
import { registerDecryptCommand } from './commands/decrypt-command.js';
import { attachCommandLog } from './command-log.js';
import { APPRAISE_VERSION } from '../core/common/version.js';

/**
 * `appraise`: one command-line tool, one file per command group under cli/commands/. Each command opens the
 * workspace through core/services and prints JSON (`--json`) or tables with progress bars for people.
 */
export function buildProgram(): Command {
  const program = new Command('appraise')
    .description('Offline-first property valuation: ingest sales, train and evaluate models, value properties')
    .version(APPRAISE_VERSION)
    .option('-w, --workspace <dir>', 'workspace folder (default: $APPRAISE_WORKSPACE, else the OS user-data folder)')
    .option('--passphrase-file <file>', "an encrypted workspace's passphrase, read from the file's first line (default: $APPRAISE_WORKSPACE_KEY)")
    .option('--json', 'print machine-readable JSON on stdout', false)
    .option('-q, --quiet', 'no progress bars or summaries', false)
    .showHelpAfterError('(run appraise --help for usage)')
    .exitOverride();
  program.hook('preAction', (_program, actionCommand) => applyPassphraseFile(globals(actionCommand).passphraseFile));
  registerWorkspaceCommands(program);
  registerBackupCommands(program);
  registerDatasetCommands(program);
  registerModelCommands(program);
  registerValuationCommands(program);
  registerDemoCommand(program);
  registerServeCommand(program);
  registerLogsCommand(program);
  registerRegistryCommands(program);
  registerMonitorCommand(program);
  registerAuditCommands(program);
  registerDecryptCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const wantsJson = argv.includes('--json');
  const commandLog = attachCommandLog(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    await commandLog.finish();
    return 0;
  } catch (e) {
    await commandLog.finish(e);
    if (e instanceof CommanderError) {
      // Help and version are "errors" to commander; usage mistakes are the user's to fix.
      return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 1;
    }
    const code = exitCodeFor(e);
    if (wantsJson) process.stdout.write(`${JSON.stringify({ error: serializeError(e) }, null, 2)}\n`);
    if (e instanceof AppraiseError && e.isUserError) process.stderr.write(`appraise: ${e.message}\n`);
    else process.stderr.write(`appraise: internal error (please report it): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return code;
  }
}
