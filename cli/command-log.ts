import { CommanderError, type Command } from 'commander';
import type { Logger } from 'pino';
import type { ProcessLogger } from '../core/logging/logger.js';
import { AppraiseError } from '../core/common/errors.js';
import { resolveWorkspaceDir } from '../core/workspace/workspace.js';
import { logsDir } from '../core/logging/log-record.js';
import { globals } from './commands/context.js';

/**
 * The CLI's log: one line per command run (its name, duration and outcome) and its error, once, with its code.
 * Never the arguments: `value --input` carries a property, `--params` whatever the user typed.
 *
 * The logger is opened when a command's action is about to run (commander's preAction hook), so `--help`,
 * `--version` and usage errors neither create the logs folder nor load the writer (pino-roll, ~70 ms).
 */
export interface CommandLog {
  /** Logs the outcome (an error thrown by the command, or success) and closes the file. Never throws. */
  finish(error?: unknown): Promise<void>;
}

// Reading the log must not write to it: `appraise logs --follow` would print its own lines.
const UNLOGGED_COMMANDS = new Set(['logs']);

let current: ProcessLogger | null = null;

/** The running command's logger (null outside one, or for `logs`), for code that logs or forwards worker lines. */
export function commandLogger(): Logger | null {
  return current?.logger ?? null;
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

export function attachCommandLog(program: Command): CommandLog {
  let command = '';
  let started = 0;
  program.hook('preAction', async (_program, actionCommand) => {
    command = commandPath(actionCommand);
    if (UNLOGGED_COMMANDS.has(command.split(' ')[0])) return;
    const { openLogger } = await import('../core/logging/logger.js');
    current = await openLogger({
      dir: logsDir(resolveWorkspaceDir(globals(actionCommand).workspace)),
      processName: 'cli',
      level: process.env.APPRAISE_LOG_LEVEL,
    });
    started = performance.now();
    current.logger.debug({ command }, `${command} started`);
  });
  return {
    async finish(error?: unknown) {
      const log = current;
      if (!log) return;
      current = null;
      const ms = Math.round(performance.now() - started);
      try {
        if (error === undefined || (error instanceof CommanderError && error.exitCode === 0)) {
          log.logger.info({ command, ms, outcome: 'ok' }, `${command} ok in ${ms} ms`);
        } else {
          const { logError } = await import('../core/logging/log-error.js');
          const cancelled = error instanceof AppraiseError && error.code === 'CANCELLED';
          logError(
            log.logger,
            error,
            { command, ms, outcome: cancelled ? 'cancelled' : 'failed' },
            `${command} ${cancelled ? 'cancelled' : 'failed'}: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      } catch {
        // Logging the outcome must never change it.
      } finally {
        await log.close();
      }
    },
  };
}
