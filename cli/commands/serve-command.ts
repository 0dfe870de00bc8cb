import type { Command } from 'commander';
import { serveUntilSignal } from '../../core/app/serve-web-app.js';
import { globals } from './context.js';

/** `appraise serve`: registered by cli/main.ts. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the Appraise app on 127.0.0.1 for a browser; prints the address to open (with its access token)')
    .option('-p, --port <n>', 'port (default: a free one)', (v) => Number.parseInt(v, 10))
    .option('--demo', 'on an empty workspace, import the bundled King County data and demo model first', false)
    .action(async (opts: { port?: number; demo: boolean }, cmd: Command) => {
      const g = globals(cmd);
      await serveUntilSignal({ workspace: g.workspace, port: opts.port, demo: opts.demo, quiet: g.quiet || g.json });
    });
}
