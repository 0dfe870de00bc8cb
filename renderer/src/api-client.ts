import type { ApiEvent, MethodInput, MethodName, MethodOutput } from '../../core/contract/contract.js';
import { ApiCallError } from './api-error.js';
import type { ApiResponse } from '../../core/contract/api-response.js';

/** What a shell's preload exposes as `window.appraise` (Electron): one invoke and one event subscription. */
export interface AppraiseBridge {
  invoke(method: string, input: unknown): Promise<ApiResponse>;
  onEvent(listener: (e: ApiEvent) => void): () => void;
}

declare global {
  interface Window {
    appraise?: AppraiseBridge;
  }
}

interface Transport {
  invoke(method: string, input: unknown): Promise<ApiResponse>;
  onEvent(listener: (e: ApiEvent) => void): () => void;
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
      if (!token) {
        return {
          ok: false,
          error: {
            name: 'AppraiseError',
            code: 'UNAUTHORIZED',
            message: 'This page was opened without its access token. Open the address that `appraise serve` printed (it ends in #token=…).',
          },
        };
      }
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
}

export const api = new ApiClient();
