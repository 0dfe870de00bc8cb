import type { Command } from 'commander';
import { openServices, type AppServices } from '../../core/services/open-workspace.js';
import type { OutputOptions } from '../output.js';

export interface GlobalOptions extends OutputOptions {
  workspace?: string;
  /** Set into APPRAISE_WORKSPACE_KEY before any command runs (cli/commands/passphrase.ts). */
  passphraseFile?: string;
}

/** Global options as seen from any subcommand. */
export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/** Runs `fn` with the workspace services open and closes them afterwards, whatever happens. */
export async function withServices<T>(cmd: Command, fn: (s: AppServices, o: GlobalOptions) => Promise<T> | T): Promise<T> {
  const o = globals(cmd);
  const services = openServices(o.workspace);
  if (services.recovered > 0 && !o.json && !o.quiet) {
    process.stderr.write(`appraise: cleaned up ${services.recovered} ingest(s) interrupted by a crash; nothing half-written was kept\n`);
  }
  try {
    return await fn(services, o);
  } finally {
    await services.close();
  }
}

/** Runs long work that Ctrl-C cancels cleanly (the work sees an aborted signal and stops without half results). */
export async function cancelOnCtrlC<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
