import { dirname, join } from 'node:path';
import { listenWebHost, type ListeningWebHost } from '../api/web-host.js';
import { createAppHost } from './app-host.js';
import { installationPaths } from './installation.js';
import type { Role } from '../contract/roles.js';

export interface ServeOptions {
  workspace?: string;
  port?: number;
  /** On an empty workspace, import the bundled King County data and demo model (champion) before serving. */
  demo?: boolean;
  /** Print the URL only (no banner). */
  quiet?: boolean;
  /**
   * Folders the API may read and write besides the workspace's files/ folder (`--allow-dir`, repeatable); the
   * bundled demo data is readable too. Everything else is refused with FORBIDDEN (issue 14, #5; docs/security.md).
   */
  allowDirs?: string[];
  /** The role of the browser's session (`--role`, core/contract/roles.ts); default analyst. */
  role?: Role;
  /** Lock the session after this many idle minutes (`--idle-lock`; core/api/session-lock.ts); none: no lock. */
  idleLockMinutes?: number;
}

/**
 * Opens the workspace and serves the app on 127.0.0.1. The returned host owns the server; `stop()` closes the
 * server, then the app host (jobs, threads, workspace), in that order.
 */
export async function startWebHost(o: ServeOptions): Promise<{ host: ListeningWebHost; stop: () => Promise<void> }> {
  const { staticDir, demo } = installationPaths();
  const app = await createAppHost({
    workspace: o.workspace,
    demo,
    prepareDemo: Boolean(o.demo && demo),
    role: o.role,
    ...(o.idleLockMinutes ? { idleLock: { timeoutMs: Math.round(o.idleLockMinutes * 60_000) } } : {}),
    confine: { allowDirs: o.allowDirs ?? [], readOnlyDirs: demo ? [dirname(demo.csv), dirname(demo.config)] : [] },
    onPreparingDemo: () => {
      if (!o.quiet) process.stderr.write('appraise: first run: importing the King County demo workspace…\n');
    },
  });
  let host: ListeningWebHost;
  try {
    // Uploads land in the workspace's files/ folder, the one the confined API may always use (core/api/file-transfer.ts).
    host = await listenWebHost({ dispatcher: app.dispatcher, staticDir, port: o.port ?? 0, files: { dir: join(app.services.workspace.dir, 'files') } });
  } catch (e) {
    await app.close();
    throw e;
  }
  // Open the champion's model while the user opens the page.
  void app.dispatcher.warmUp();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await host.close();
    await app.close();
  };
  if (!staticDir) process.stderr.write('appraise: the renderer is not built (npm run build:renderer); serving the API only\n');
  return { host, stop };
}

/** Runs the web host until the process is told to stop; used by `appraise serve` and `npm run web`. */
export async function serveUntilSignal(o: ServeOptions): Promise<void> {
  const { host, stop } = await startWebHost(o);
  if (o.quiet) process.stdout.write(`${host.url}\n`);
  else {
    process.stdout.write(
      `Appraise is running. Open this address in your browser (it carries this launch's access token):\n\n  ${host.url}\n\nPress Ctrl+C to stop.\n`,
    );
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
