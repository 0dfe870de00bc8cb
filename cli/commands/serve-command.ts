import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openServices } from '../../core/services/open-workspace.js';
import { ApiDispatcher } from '../../core/api/dispatcher.js';
import { listenWebHost, type ListeningWebHost } from '../../core/api/web-host.js';
import { prepareDemoWorkspace, repoRoot } from './demo-command.js';
import { globals } from './context.js';

export interface ServeOptions {
  workspace?: string;
  port?: number;
  /** On an empty workspace, import the bundled King County data and demo model (champion) before serving. */
  demo?: boolean;
  /** Print the URL only (no banner). */
  quiet?: boolean;
}

/** The bundled demo data and the built renderer, found from the installation folder. */
export function installationPaths(): { staticDir: string | null; demo: { csv: string; config: string } | null } {
  const root = repoRoot();
  const staticDir = join(root, 'renderer', 'dist');
  const csv = join(root, 'data', 'kc_house_sales.csv');
  const config = join(root, 'config', 'king-county.yaml');
  return { staticDir: existsSync(join(staticDir, 'index.html')) ? staticDir : null, demo: existsSync(csv) && existsSync(config) ? { csv, config } : null };
}

/**
 * Opens the workspace and serves the app on 127.0.0.1 until SIGINT/SIGTERM. The returned host owns the server;
 * `stop()` closes the host, cancels jobs and closes the workspace, in that order.
 */
export async function startWebHost(o: ServeOptions): Promise<{ host: ListeningWebHost; stop: () => Promise<void> }> {
  const { staticDir, demo } = installationPaths();
  const services = openServices(o.workspace);
  if (o.demo && demo && services.datasets.list().length === 0) {
    if (!o.quiet) process.stderr.write('appraise: first run: importing the King County demo workspace…\n');
    await prepareDemoWorkspace(services);
  }
  const dispatcher = new ApiDispatcher(services, { demo });
  let host: ListeningWebHost;
  try {
    host = await listenWebHost({ dispatcher, staticDir, port: o.port ?? 0 });
  } catch (e) {
    await dispatcher.close();
    await services.close();
    throw e;
  }
  // Open the champion's model while the user opens the page.
  void dispatcher.warmUp();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await host.close();
    await dispatcher.close();
    await services.close();
  };
  if (!staticDir) process.stderr.write('appraise: the renderer is not built (npm run build:renderer); serving the API only\n');
  return { host, stop };
}

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

/** Runs the web host until the process is told to stop; used by `appraise serve` and `npm run web`. */
export async function serveUntilSignal(o: ServeOptions): Promise<void> {
  const { host, stop } = await startWebHost(o);
  if (o.quiet) process.stdout.write(`${host.url}\n`);
  else {
    process.stdout.write(`Appraise is running. Open this address in your browser (it carries this launch's access token):\n\n  ${host.url}\n\nPress Ctrl+C to stop.\n`);
  }
  await new Promise<void>((resolvePromise) => {
    const onSignal = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolvePromise();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await stop();
}
