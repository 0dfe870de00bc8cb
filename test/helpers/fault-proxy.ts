import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does to one exchange. */
export type Fault = 'none' | 'drop' | 'truncate' | 'corrupt' | 'delay' | 'error500' | 'duplicate';

export interface FaultProxy {
  url: string;
  /** Counts of faults applied, by kind. */
  applied: Record<Fault, number>;
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** Where to forward; read per request so a restarted registry on a new port can be followed. */
  target: () => string;
  /** The fault for this request (seeded by the caller). */
  decide: (req: { method: string; path: string }) => Fault;
  /** An attacker's rewrite of a response body (after any fault decision of 'none'). */
  rewrite?: (req: { method: string; path: string }, status: number, body: Buffer) => Buffer;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * A man in the middle between devices and the registry, for fault and attack tests: it drops connections,
 * truncates and corrupts bodies, delays, sends a request twice, or answers 500, as `decide` says.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const applied: Record<Fault, number> = { none: 0, drop: 0, truncate: 0, corrupt: 0, delay: 0, error500: 0, duplicate: 0 };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const meta = { method: req.method ?? 'GET', path: req.url ?? '/' };
      const body = await readBody(req);
      const fault = options.decide(meta);
      applied[fault]++;
      if (fault === 'error500') {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"code":"INTERNAL","message":"injected"}}');
        return;
      }
      const forward = () =>
        fetch(new URL(meta.path, options.target()), {
          method: meta.method,
          headers: {
            ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
            ...(req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {}),
          },
          body: meta.method === 'GET' || meta.method === 'HEAD' ? undefined : body,
        });
      let upstream: Response;
      try {
        upstream = await forward();
        if (fault === 'duplicate') {
          await upstream.arrayBuffer();
          upstream = await forward();
        }
      } catch {
        res.socket?.destroy(); // the registry is down: the device sees a dead connection
        return;
      }
      let out: Buffer = Buffer.from(await upstream.arrayBuffer());
      if (fault === 'none' && options.rewrite) out = options.rewrite(meta, upstream.status, out);
      const headers = { 'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream', 'content-length': String(out.length) };
      if (fault === 'drop') {
        res.socket?.destroy();
        return;
      }
      if (fault === 'truncate') {
        res.writeHead(upstream.status, headers);
        res.write(out.subarray(0, out.length >> 1));
        res.socket?.destroy();
        return;
      }
      if (fault === 'corrupt' && out.length > 0) {
        out = Buffer.from(out);
        out[out.length >> 1] ^= 0x20;
      }
      if (fault === 'delay') await new Promise((r) => setTimeout(r, 20 + (out.length % 80)));
      res.writeHead(upstream.status, headers).end(out);
    })().catch(() => res.socket?.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    applied,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
