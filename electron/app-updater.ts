/**
 * The thin adapter between core's TUF-verified app releases and electron-updater. Core (SyncService, through
 * core/sync/app-update-check.ts) downloads a newer release only after TUF has verified its feed and installer, and
 * leaves it whole in `<workspace>/sync/app-update/<version>/`. This file serves exactly that folder to
 * electron-updater's generic provider on a loopback port, so electron-updater never talks to the network itself and
 * can only install bytes TUF accepted; its own sha512 check of the installer against the feed stays as a second one.
 * The release installs when the app quits (electron-updater's autoInstallOnAppQuit) or on `restartToInstall()`.
 */
import { app } from 'electron';
import electronUpdater from 'electron-updater';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { appFileNameSchema, compareVersions } from '../core/sync/app-release.js';
import { appUpdateDir, feedFileFor } from '../core/sync/app-update-check.js';
import type { UpdaterState } from '../core/sync/app-installer.js';

/** What `applyVerifiedRelease` ends in (core/sync/app-installer.ts decides from it whether the app may restart into it). */
export type AppUpdaterState = Exclude<UpdaterState, { state: 'preparing' }>;

/** The newest verified release waiting for this workspace that is newer than the running app, or null. */
export function waitingRelease(workspaceDir: string, runningVersion: string): { version: string; dir: string } | null {
  const root = appUpdateDir(workspaceDir);
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => /^\d+\.\d+\.\d+/.test(v) && existsSync(join(root, v, feedFileFor(process.platform))));
  const newest = versions.sort(compareVersions).at(-1);
  return newest && compareVersions(newest, runningVersion) > 0 ? { version: newest, dir: join(root, newest) } : null;
}

/** Serves one folder's plain files (no subfolders, no traversal) on 127.0.0.1; electron-updater reads it as a generic feed. */
async function serveFolder(dir: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').split('?')[0].slice(1));
    const path = join(dir, name);
    if (!appFileNameSchema.safeParse(name).success || !existsSync(path) || !statSync(path).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': statSync(path).size });
    createReadStream(path).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/**
 * Hands a verified release to electron-updater: it reads the feed from the loopback server, downloads the
 * installer from it (checking sha512) and installs on quit. Packaged builds only: electron-updater cannot install
 * into a development checkout. Resolves with the outcome; never throws.
 */
export async function applyVerifiedRelease(release: { version: string; dir: string }): Promise<AppUpdaterState> {
  if (!app.isPackaged) return { state: 'failed', message: 'updates install only into a packaged Appraise, not a development build' };
  const updater = electronUpdater.autoUpdater;
  const { url, server } = await serveFolder(release.dir);
  try {
    updater.autoDownload = true;
    updater.autoInstallOnAppQuit = true;
    updater.setFeedURL({ provider: 'generic', url });
    const downloaded = new Promise<void>((resolve, reject) => {
      updater.once('update-downloaded', () => resolve());
      updater.once('error', reject);
    });
    const result = await updater.checkForUpdates();
    if (!result?.isUpdateAvailable) return { state: 'idle' };
    await downloaded;
    return { state: 'downloaded', version: release.version };
  } catch (e) {
    return { state: 'failed', message: `the verified update ${release.version} could not be prepared: ${(e as Error).message}` };
  } finally {
    server.close();
  }
}

/** Quits and installs a downloaded release now (the person chose "Restart to install"). */
export function restartToInstall(): void {
  electronUpdater.autoUpdater.quitAndInstall();
}
