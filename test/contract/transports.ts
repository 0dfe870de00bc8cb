import { ApiDispatcher } from '../../core/api/dispatcher.js';
import { listenWebHost, TOKEN_HEADER, type ListeningWebHost } from '../../core/api/web-host.js';
import type { SerializedError } from '../../core/common/errors.js';
import { tempServices } from '../helpers/temp-workspace.js';

export type Answer = { ok: true; result: unknown; status: number } | { ok: false; error: SerializedError; status: number };

/** One way to call the API: the same contract suite runs over each. */
export interface Transport {
  name: string;
  call(method: string, input: unknown): Promise<Answer>;
  close(): Promise<void>;
}

/** The dispatcher called in-process (what Electron's IPC handler does). */
export async function inProcessTransport(): Promise<Transport & { dispatcher: ApiDispatcher }> {
  const services = tempServices();
  const dispatcher = new ApiDispatcher(services, { validateOutput: true });
  return {
    name: 'in-process dispatcher',
    dispatcher,
    async call(method, input) {
      const r = await dispatcher.callSafe(method, input);
      return r.ok ? { ok: true, result: r.result, status: 200 } : { ok: false, error: r.error, status: 0 };
    },
    async close() {
      await dispatcher.close();
      services.cleanup();
    },
  };
}

/** The web host over real HTTP on 127.0.0.1. */
export async function httpTransport(): Promise<Transport & { host: ListeningWebHost }> {
  const services = tempServices();
  const dispatcher = new ApiDispatcher(services, { validateOutput: true });
  const host = await listenWebHost({ dispatcher, staticDir: null });
  return {
    name: 'web host over HTTP',
    host,
    async call(method, input) {
      const res = await fetch(`${host.origin}/api/${encodeURIComponent(method)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [TOKEN_HEADER]: host.token },
        body: JSON.stringify(input),
      });
      const body = (await res.json()) as { result?: unknown; error?: SerializedError };
      return body.error ? { ok: false, error: body.error, status: res.status } : { ok: true, result: body.result, status: res.status };
    },
    async close() {
      await host.close();
      await dispatcher.close();
      services.cleanup();
    },
  };
}
