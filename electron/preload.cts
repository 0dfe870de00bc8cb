// The preload runs sandboxed, so it is CommonJS and may only require 'electron'. It exposes exactly one
// global, `window.appraise`, with one invoke and one event subscription; no Node object crosses over.
// (Channel names are repeated from ipc-channels.ts: a sandboxed preload cannot require project files.)
import type { IpcRendererEvent } from 'electron';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a sandboxed preload is CommonJS
import electron = require('electron');

const { contextBridge, ipcRenderer } = electron;

const IPC_INVOKE = 'appraise:invoke';
const IPC_EVENT = 'appraise:event';

contextBridge.exposeInMainWorld('appraise', {
  invoke: (method: unknown, input: unknown) => {
    if (typeof method !== 'string' || method.length > 100) return Promise.resolve({ ok: false, error: { name: 'AppraiseError', code: 'INVALID_INPUT', message: 'method must be a string' } });
    return ipcRenderer.invoke(IPC_INVOKE, method, input);
  },
  onEvent: (listener: unknown) => {
    if (typeof listener !== 'function') throw new TypeError('onEvent needs a function');
    const wrapped = (_e: IpcRendererEvent, payload: unknown) => (listener as (p: unknown) => void)(payload);
    ipcRenderer.on(IPC_EVENT, wrapped);
    return () => {
      ipcRenderer.off(IPC_EVENT, wrapped);
    };
  },
});
