// The preload runs sandboxed, so it is CommonJS and may only require 'electron'. It exposes exactly one
// global, `window.appraise`, with one invoke, one event subscription and the native file dialog; no Node object
// crosses over.
// (Channel names are repeated from ipc-channels.ts: a sandboxed preload cannot require project files.)
// Electron's sandboxed preload wrapper provides require('electron'), module and exports (used by the emitted CommonJS).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { contextBridge, ipcRenderer } = require('electron') as { contextBridge: Electron.ContextBridge; ipcRenderer: Electron.IpcRenderer };

const IPC_INVOKE = 'appraise:invoke';
const IPC_EVENT = 'appraise:event';
const IPC_FILE_DIALOG = 'appraise:file-dialog';
const IPC_RESTART_TO_INSTALL = 'appraise:restart-to-install';

contextBridge.exposeInMainWorld('appraise', {
  invoke: (method: unknown, input: unknown) => {
    if (typeof method !== 'string' || method.length > 100)
      return Promise.resolve({ ok: false, error: { name: 'AppraiseError', code: 'INVALID_INPUT', message: 'method must be a string' } });
    return ipcRenderer.invoke(IPC_INVOKE, method, input);
  },
  // A native open/save dialog (checked in main by electron/file-dialog.ts); answers { ok, result: { path } }.
  chooseFile: (request: unknown) => ipcRenderer.invoke(IPC_FILE_DIALOG, request),
  // "Restart to install": main quits into the verified, downloaded release (electron/restart-to-install.ts); no argument.
  restartToInstall: () => ipcRenderer.invoke(IPC_RESTART_TO_INSTALL),
  onEvent: (listener: unknown) => {
    if (typeof listener !== 'function') throw new TypeError('onEvent needs a function');
    const wrapped = (_e: Electron.IpcRendererEvent, payload: unknown) => (listener as (p: unknown) => void)(payload);
    ipcRenderer.on(IPC_EVENT, wrapped);
    return () => {
      ipcRenderer.off(IPC_EVENT, wrapped);
    };
  },
});
