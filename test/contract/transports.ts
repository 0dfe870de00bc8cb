import type { ApiDispatcher } from '../../core/api/dispatcher.js';
import { listenWebHost, TOKEN_HEADER, type ListeningWebHost } from '../../core/api/web-host.js';
import type { ApiResponse } from '../../core/contract/api-response.js';
import { tempAppHost } from '../helpers/temp-workspace.js';

/** The envelope, plus the HTTP status it came with (0 in process). */
export type Answer = ApiResponse & { status: number };

/** One way to call the API: the same contract suite runs over each. */
export interface Transport {
  name: string;
  call(method: string, input: unknown): Promise<Answer>;
  close(): Promise<void>;
}

/** The dispatcher called in-process (what Electron's IPC handler does). */
export async function inProcessTransport(): Promise<Transport & { dispatcher: ApiDispatcher }> {
  const app = await tempAppHost();
  const dispatcher = app.dispatcher;
  return {
    name: 'in-process dispatcher',
    dispatcher,
    async call(method, input) {
      return { ...(await dispatcher.callSafe(method, input)), status: 0 };
    },
    async close() {
      await app.cleanup();
    },
  };
}

/** The web host over real HTTP on 127.0.0.1. */
export async function httpTransport(): Promise<Transport & { host: ListeningWebHost }> {
  const app = await tempAppHost();
  const host = await listenWebHost({ dispatcher: app.dispatcher, staticDir: null });
  return {
    name: 'web host over HTTP',
    host,
    async call(method, input) {
      const res = await fetch(`${host.origin}/api/${encodeURIComponent(method)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [TOKEN_HEADER]: host.token },
        body: JSON.stringify(input),
      });
      return { ...((await res.json()) as ApiResponse), status: res.status };
    },
    async close() {
      await host.close();
      await app.cleanup();
    },
  };
}
