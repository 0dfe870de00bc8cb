/**
 * Electron main process: window lifecycle, single instance, menus, the app:// protocol serving the renderer with
 * its CSP header, the security handlers from security-policy.ts, the IPC bridge to the utility process that runs
 * core/, and electron-updater. Only wiring lives here; the decisions are in security-policy.ts (unit-tested).
 */
import { app, BrowserWindow, Menu, dialog, ipcMain, protocol, session, shell, utilityProcess, type UtilityProcess } from 'electron';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppraiseError } from '../core/common/errors.js';
import { errorResponse, type ApiResponse } from '../core/contract/api-response.js';
import { applyVerifiedRelease, restartToInstall, waitingRelease } from './app-updater.js';
import { handleRestartToInstall, IPC_RESTART_TO_INSTALL } from './restart-to-install.js';
import type { UpdaterState } from '../core/sync/app-installer.js';
import { handleInvoke } from './ipc-handler.js';
import { handleFileDialog, IPC_FILE_DIALOG } from './file-dialog.js';
import { IPC_EVENT, IPC_INVOKE, type CoreHostMessage, type CoreHostRequest } from './ipc-channels.js';
import {
  APP_ORIGIN,
  APP_SCHEME,
  isAllowedNavigation,
  permissionDecision,
  rendererResponseHeaders,
  resolveAppUrl,
  secureWebPreferences,
  windowOpenDecision,
} from './security-policy.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const rendererDir = join(root, 'renderer', 'dist');
const preloadPath = fileURLToPath(new URL('./preload.cjs', import.meta.url));
const coreHostPath = fileURLToPath(new URL('./core-host.js', import.meta.url));
const MIME: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  let win: BrowserWindow | null = null;
  let core: UtilityProcess | null = null;
  let nextId = 1;
  const pending = new Map<number, (r: ApiResponse) => void>();

  // A release reaches electron-updater only from the folder core fills after TUF verified it (electron/app-updater.ts).
  let updateTimer: NodeJS.Timeout | null = null;
  let handedOver: string | null = null;
  // What electron-updater holds, for "Restart to install" (electron/restart-to-install.ts).
  let updaterState: UpdaterState = app.isPackaged
    ? { state: 'idle' }
    : { state: 'failed', message: 'updates install only into a packaged Appraise, not a development build' };
  const watchVerifiedReleases = (workspace: string) => {
    if (updateTimer || !app.isPackaged || process.env.APPRAISE_UPDATES === 'off') return;
    const look = () => {
      const release = waitingRelease(workspace, app.getVersion());
      if (!release || release.version === handedOver) return;
      handedOver = release.version;
      updaterState = { state: 'preparing', version: release.version };
      void applyVerifiedRelease(release).then((r) => {
        updaterState = r;
        if (r.state === 'failed') {
          console.error(`appraise: ${r.message}`);
          handedOver = null;
        }
      });
    };
    look();
    updateTimer = setInterval(look, 5 * 60_000);
    updateTimer.unref();
  };

  const startCore = () => {
    const demoCsv = join(root, 'data', 'kc_house_sales.csv');
    const demoConfig = join(root, 'config', 'king-county.yaml');
    const args = [
      ...(process.env.APPRAISE_WORKSPACE ? [`--workspace=${process.env.APPRAISE_WORKSPACE}`] : []),
      ...(existsSync(demoCsv) && existsSync(demoConfig) ? [`--demo-csv=${demoCsv}`, `--demo-config=${demoConfig}`] : []),
    ];
    // Core's sync checks the registry for newer releases of this version, through TUF (core/sync/app-update-check.ts).
    const env = { ...process.env, APPRAISE_APP_VERSION: process.env.APPRAISE_UPDATES === 'off' ? '' : app.getVersion() };
    core = utilityProcess.fork(coreHostPath, args, { serviceName: 'Appraise core', stdio: 'inherit', env });
    core.on('message', (m: CoreHostMessage) => {
      if (m.kind === 'reply') {
        pending.get(m.id)?.(m.response);
        pending.delete(m.id);
      } else if (m.kind === 'event') {
        for (const w of BrowserWindow.getAllWindows()) w.webContents.send(IPC_EVENT, m.event);
      } else if (m.kind === 'ready') {
        watchVerifiedReleases(m.workspace);
      } else if (m.kind === 'fatal') {
        console.error(`appraise: the core process could not start: ${m.message}`);
      }
    });
    core.on('exit', (code) => {
      for (const resolve of pending.values())
        resolve(errorResponse(new AppraiseError('INTERNAL', `the core process stopped (exit ${code}); restart Appraise`)));
      pending.clear();
      core = null;
    });
  };

  const callCore = (method: string, input: unknown) =>
    new Promise<ApiResponse>((resolve) => {
      if (!core) return resolve(errorResponse(new AppraiseError('INTERNAL', 'the core process is not running; restart Appraise')));
      const id = nextId++;
      pending.set(id, resolve);
      core.postMessage({ kind: 'call', id, method, input } satisfies CoreHostRequest);
    });

  const createWindow = () => {
    win = new BrowserWindow({
      width: 1280,
      height: 800,
      minWidth: 1024,
      minHeight: 640,
      title: 'Appraise',
      show: false,
      icon: join(root, 'build', 'icon.png'),
      webPreferences: secureWebPreferences(preloadPath),
    });
    win.once('ready-to-show', () => win?.show());
    win.on('closed', () => (win = null));
    void win.loadURL(`${APP_ORIGIN}/index.html`);
  };

  app.on('second-instance', () => {
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });

  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (e, url) => {
      if (!isAllowedNavigation(url)) e.preventDefault();
    });
    contents.on('will-redirect', (e, url) => {
      if (!isAllowedNavigation(url)) e.preventDefault();
    });
    contents.on('will-attach-webview', (e) => e.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      const d = windowOpenDecision(url);
      if (d.openExternally) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });

  void app.whenReady().then(() => {
    session.defaultSession.setPermissionRequestHandler((_wc, permission, callback) => callback(permissionDecision(permission)));
    session.defaultSession.setPermissionCheckHandler((_wc, permission) => permissionDecision(permission));
    protocol.handle(APP_SCHEME, async (request) => {
      const file = resolveAppUrl(request.url, rendererDir, join, normalize);
      if (!file || !existsSync(file)) return new Response('not found', { status: 404 });
      return new Response(await readFile(file), { headers: rendererResponseHeaders(MIME[extname(file)] ?? 'application/octet-stream') });
    });
    // Sender check here; input validated against the contract by the dispatcher in the core process.
    ipcMain.handle(IPC_INVOKE, (event, method: unknown, input: unknown) => handleInvoke(event.senderFrame, method, input, callCore));
    ipcMain.handle(IPC_RESTART_TO_INSTALL, (event) => handleRestartToInstall(event.senderFrame, () => updaterState, restartToInstall));
    // Native open/save dialogs for the window (Batch): the person picks the file; the window gets only its path.
    ipcMain.handle(IPC_FILE_DIALOG, (event, request: unknown) =>
      handleFileDialog(
        event.senderFrame,
        request,
        {
          open: async (o) => {
            const r = win ? await dialog.showOpenDialog(win, o) : await dialog.showOpenDialog(o);
            return r.canceled ? null : (r.filePaths[0] ?? null);
          },
          save: async (o) => {
            const r = win ? await dialog.showSaveDialog(win, o) : await dialog.showSaveDialog(o);
            return r.canceled ? null : (r.filePath ?? null);
          },
        },
        app.getPath('documents'),
      ),
    );
    Menu.setApplicationMenu(
      Menu.buildFromTemplate([
        ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
        { role: 'fileMenu' },
        { role: 'editMenu' },
        {
          label: 'View',
          submenu: [
            { role: 'reload' },
            { type: 'separator' },
            { role: 'resetZoom' },
            { role: 'zoomIn' },
            { role: 'zoomOut' },
            { type: 'separator' },
            { role: 'togglefullscreen' },
          ],
        },
        { role: 'windowMenu' },
        { role: 'help', submenu: [{ label: `Appraise ${app.getVersion()}`, enabled: false }] },
      ]),
    );
    startCore();
    createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('before-quit', () => {
    core?.kill();
  });
}
