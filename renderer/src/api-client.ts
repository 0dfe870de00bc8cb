import type { ApiEvent, MethodInput, MethodName, MethodOutput } from '../../core/contract/contract.js';
import { ApiCallError } from './api-error.js';
import type { ApiResponse } from '../../core/contract/api-response.js';
import type { FileDialogRequest, FileDialogResult, UploadResult } from '../../core/contract/file-transfer.js';

/** What a shell's preload exposes as `window.appraise` (Electron): one invoke and one event subscription. */
export interface AppraiseBridge {
  invoke(method: string, input: unknown): Promise<ApiResponse>;
  onEvent(listener: (e: ApiEvent) => void): () => void;
  /** A native open/save dialog (electron/file-dialog.ts). */
  chooseFile?(request: FileDialogRequest): Promise<ApiResponse<FileDialogResult>>;
  /** Quits into the verified, downloaded app release (electron/restart-to-install.ts). */
  restartToInstall?(): Promise<ApiResponse<{ restarting: true; version: string }>>;
}

declare global {
  interface Window {
    appraise?: AppraiseBridge;
  }
}

interface Transport {
  invoke(method: string, input: unknown): Promise<ApiResponse>;
  onEvent(listener: (e: ApiEvent) => void): () => void;
  /** The web host's file transfer (core/api/file-transfer.ts). */
  upload?(file: Blob, name: string): Promise<ApiResponse<UploadResult>>;
  download?(path: string): Promise<{ ok: true; blob: Blob; name: string } | { ok: false; response: ApiResponse }>;
}

const TOKEN_KEY = 'appraise.token';

/** Reads the launch token from `#token=…` once, keeps it for reloads of this tab, and removes it from the address bar. */
function takeToken(): string | null {
  const m = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(window.location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, m[1]);
    history.replaceState(null, '', window.location.pathname + window.location.search);
    return m[1];
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

const NO_TOKEN: ApiResponse<never> = {
  ok: false,
  error: {
    name: 'AppraiseError',
    code: 'UNAUTHORIZED',
    message: 'This page was opened without its access token. Open the address that `appraise serve` printed (it ends in #token=…).',
  },
};

/** The web host: POST /api/<method> with the token header, and a streamed GET /api/events. */
function httpTransport(): Transport {
  const token = takeToken();
  const listeners = new Set<(e: ApiEvent) => void>();
  let streaming = false;

  async function stream(): Promise<void> {
    if (streaming || !token) return;
    streaming = true;
    while (listeners.size > 0) {
      try {
        const res = await fetch('./api/events', { headers: { 'x-appraise-token': token }, cache: 'no-store' });
        if (!res.ok || !res.body) throw new Error(`event stream: HTTP ${res.status}`);
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += decoder.decode(value, { stream: true });
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const chunk = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const data = chunk
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n');
            if (data) {
              const event = JSON.parse(data) as ApiEvent;
              for (const l of listeners) l(event);
            }
          }
        }
      } catch {
        // The host restarted or the connection dropped: try again shortly.
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    streaming = false;
  }

  return {
    async invoke(method, input) {
      if (!token) return NO_TOKEN;
      let res: Response;
      try {
        res = await fetch(`./api/${encodeURIComponent(method)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-appraise-token': token },
          body: JSON.stringify(input ?? {}),
        });
      } catch {
        return {
          ok: false,
          error: {
            name: 'AppraiseError',
            code: 'OFFLINE',
            message: 'The Appraise host is not running. Start it again with `appraise serve` and open the new address.',
          },
        };
      }
      let body: ApiResponse;
      try {
        body = (await res.json()) as typeof body;
      } catch {
        return { ok: false, error: { name: 'AppraiseError', code: 'INTERNAL', message: `The host answered HTTP ${res.status} without a readable body.` } };
      }
      return body;
    },
    onEvent(listener) {
      listeners.add(listener);
      void stream();
      return () => listeners.delete(listener);
    },
    async upload(file, name) {
      if (!token) return NO_TOKEN;
      try {
        const res = await fetch(`./api/files/upload?name=${encodeURIComponent(name)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream', 'x-appraise-token': token },
          body: file,
        });
        return (await res.json()) as ApiResponse<UploadResult>;
      } catch {
        return {
          ok: false,
          error: { name: 'AppraiseError', code: 'OFFLINE', message: `The file could not be sent to the Appraise host; is it still running?` },
        };
      }
    },
    async download(path) {
      if (!token) return { ok: false, response: NO_TOKEN };
      let res: Response;
      try {
        res = await fetch(`./api/files/download?path=${encodeURIComponent(path)}`, { headers: { 'x-appraise-token': token }, cache: 'no-store' });
      } catch {
        return { ok: false, response: { ok: false, error: { name: 'AppraiseError', code: 'OFFLINE', message: 'The Appraise host is not running.' } } };
      }
      if (!res.ok) {
        try {
          return { ok: false, response: (await res.json()) as ApiResponse };
        } catch {
          return { ok: false, response: { ok: false, error: { name: 'AppraiseError', code: 'INTERNAL', message: `The host answered HTTP ${res.status}.` } } };
        }
      }
      const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'results.csv';
      return { ok: true, blob: await res.blob(), name };
    },
  };
}

/**
 * The renderer's one way to reach core/: picks the Electron bridge when the preload provided one, else the
 * web host over HTTP. Screens never know which shell they run in.
 */
export class ApiClient {
  private readonly transport: Transport;
  readonly shell: 'electron' | 'web';

  constructor() {
    this.transport = window.appraise ?? httpTransport();
    this.shell = window.appraise ? 'electron' : 'web';
  }

  async call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
    const r = await this.transport.invoke(method, input);
    if (!r.ok) throw new ApiCallError(r.error.code, r.error.message, r.error.details);
    return r.result as MethodOutput<M>;
  }

  onEvent(listener: (e: ApiEvent) => void): () => void {
    return this.transport.onEvent(listener);
  }

  /** Electron: a native open or save dialog; the chosen path, or null when cancelled. */
  async chooseFile(request: FileDialogRequest): Promise<string | null> {
    const bridge = window.appraise;
    if (!bridge?.chooseFile) throw new ApiCallError('NOT_FOUND', 'File dialogs are only in the desktop app; upload the file instead.');
    const r = await bridge.chooseFile(request);
    if (!r.ok) throw new ApiCallError(r.error.code, r.error.message, r.error.details);
    return r.result.path;
  }

  /**
   * Electron: quits and installs the verified, downloaded release; answers before the window closes. The web host
   * has no installer: the words say where the update installs instead.
   */
  async restartToInstall(): Promise<{ version: string }> {
    const bridge = window.appraise;
    if (!bridge?.restartToInstall)
      throw new ApiCallError(
        'NOT_FOUND',
        'Restart to install is only in the desktop app. This page is served by appraise serve, which cannot replace the app: open the Appraise desktop app on this computer (it installs the update when you restart or quit it), or install the new release by hand.',
      );
    const r = await bridge.restartToInstall();
    if (!r.ok) throw new ApiCallError(r.error.code, r.error.message, r.error.details);
    return r.result;
  }

  /** Web host: sends a file the person chose into the workspace's uploads folder; its stored path comes back. */
  async upload(file: Blob, name: string): Promise<UploadResult> {
    if (!this.transport.upload) throw new ApiCallError('NOT_FOUND', 'Uploads are only on the web host; choose the file with the dialog.');
    const r = await this.transport.upload(file, name);
    if (!r.ok) throw new ApiCallError(r.error.code, r.error.message, r.error.details);
    return r.result;
  }

  /** Web host: downloads a result file (an uploaded file's results) through the browser. */
  async download(path: string): Promise<void> {
    if (!this.transport.download) throw new ApiCallError('NOT_FOUND', 'Downloads are only on the web host; the results are already where you saved them.');
    const r = await this.transport.download(path);
    if (!r.ok) {
      const e = r.response.ok ? null : r.response.error;
      throw new ApiCallError(e?.code ?? 'INTERNAL', e?.message ?? 'The download failed.', e?.details);
    }
    const url = URL.createObjectURL(r.blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = r.name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    // Revoked after the browser has taken the file.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}

export const api = new ApiClient();
