import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { ApiDispatcher } from './dispatcher.js';
import { AppraiseError, type ErrorCode } from '../common/errors.js';
import { errorResponse } from '../contract/api-response.js';
import { RENDERER_CSP } from './renderer-csp.js';
import { downloadFile, receiveUpload, type FileTransferOptions } from './file-transfer.js';

/** Header that carries the per-launch token on every API call. */
export const TOKEN_HEADER = 'x-appraise-token';
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const HEARTBEAT_MS = 15_000;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

export interface WebHostOptions {
  dispatcher: ApiDispatcher;
  /** The built renderer (renderer/dist); null serves the API only. */
  staticDir: string | null;
  /** Per-launch secret; random when not given. */
  token?: string;
  maxBodyBytes?: number;
  /**
   * File uploads and downloads for the window (issue 11, Batch; core/api/file-transfer.ts): uploads are stored in
   * `dir/uploads/`, downloads served only from `dir` and the file-access policy's allowed folders. Absent: none.
   */
  files?: FileTransferOptions;
}

export interface WebHost {
  server: Server;
  token: string;
  /** Ends open event streams; the server itself is closed by `close()` of the listening host. */
  closeStreams(): void;
}

export interface ListeningWebHost extends WebHost {
  port: number;
  /** Origin of the host, e.g. http://127.0.0.1:41234 */
  origin: string;
  /** The address to open, token included in the fragment (never sent to the server by the browser). */
  url: string;
  close(): Promise<void>;
}

/**
 * The local web host: the renderer's files plus the API contract over HTTP on loopback.
 *
 * Every API call needs the per-launch token in the `x-appraise-token` header, so other pages in the user's
 * browser (which can reach 127.0.0.1 too) cannot call it; the Host header must name a loopback address
 * (defeats DNS rebinding) and a browser's Origin must be this host's own. Bodies are capped. Errors are JSON
 * the `ApiResponse` envelope (`{ ok: false, error: { code, message, details } }`), 4xx for the caller's mistakes and 500 only for bugs.
 *
 * Built apart from listening so tests can serve it on an ephemeral port in-process.
 */
export function buildWebHost(options: WebHostOptions): WebHost {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const tokenBuf = Buffer.from(token);
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const staticDir = options.staticDir ? resolve(options.staticDir) : null;
  const streams = new Set<ServerResponse>();
  const dispatcher = options.dispatcher;

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      // Only a bug gets here; still answer with a body.
      if (!res.headersSent) sendError(res, 500, 'INTERNAL', `web host error: ${e instanceof Error ? e.message : String(e)}`);
      else res.destroy();
    });
  });
  server.headersTimeout = 20_000;
  server.requestTimeout = 0; // event streams stay open

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const port = (server.address() as AddressInfo | null)?.port ?? null;
    const hostCheck = checkHost(req.headers.host, port);
    if (hostCheck) return sendError(res, 403, 'FORBIDDEN', hostCheck);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname.startsWith('/api/')) {
      const originCheck = checkOrigin(req.headers.origin, port);
      if (originCheck) return sendError(res, 403, 'FORBIDDEN', originCheck);
      if (!tokenOk(req.headers[TOKEN_HEADER])) {
        return sendError(res, 401, 'UNAUTHORIZED', `missing or wrong API token: send the token printed at launch in the ${TOKEN_HEADER} header`);
      }
      // Files travel as raw bodies, not JSON: their own routes, behind the same token, Host and Origin checks.
      if (url.pathname === '/api/files/upload' || url.pathname === '/api/files/download') {
        if (!options.files) return sendError(res, 404, 'NOT_FOUND', 'this host does not take uploads or serve downloads');
        if (url.pathname === '/api/files/upload') {
          if (req.method !== 'POST') return sendError(res, 405, 'INVALID_INPUT', 'uploads are sent with POST');
          const r = await receiveUpload(req, url, options.files);
          return sendJson(res, r.ok ? 200 : HTTP_STATUS[r.error.code], r);
        }
        if (req.method !== 'GET') return sendError(res, 405, 'INVALID_INPUT', 'downloads are read with GET');
        const failed = await downloadFile(url, res, options.files);
        return failed ? sendJson(res, HTTP_STATUS[failed.error.code], failed) : undefined;
      }
      let method: string;
      try {
        method = decodeURIComponent(url.pathname.slice('/api/'.length));
      } catch {
        return sendError(res, 400, 'INVALID_INPUT', 'the method name in the path is not valid percent-encoding');
      }
      if (method === 'events') {
        if (req.method !== 'GET') return sendError(res, 405, 'INVALID_INPUT', 'the event stream is read with GET');
        return openEventStream(req, res);
      }
      if (req.method !== 'POST') return sendError(res, 405, 'INVALID_INPUT', `API methods are called with POST, not ${req.method}`);
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/json') return sendError(res, 415, 'INVALID_INPUT', 'send the input as JSON with Content-Type: application/json');
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > maxBody) {
        res.setHeader('Connection', 'close');
        return sendError(res, 413, 'TOO_LARGE', `the request body is over the ${maxBody} byte limit`);
      }
      const body = await readBody(req, maxBody);
      if (body === null) {
        res.setHeader('Connection', 'close');
        return sendError(res, 413, 'TOO_LARGE', `the request body is over the ${maxBody} byte limit`);
      }
      let input: unknown;
      try {
        input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch {
        return sendError(res, 400, 'INVALID_INPUT', 'the request body is not valid JSON');
      }
      const r = await dispatcher.callSafe(method, input);
      return sendJson(res, r.ok ? 200 : HTTP_STATUS[r.error.code], r);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'INVALID_INPUT', 'only GET serves files');
    return serveStatic(url.pathname, req, res);
  }

  function tokenOk(given: string | string[] | undefined): boolean {
    if (typeof given !== 'string') return false;
    const buf = Buffer.from(given);
    return buf.length === tokenBuf.length && timingSafeEqual(buf, tokenBuf);
  }

  function openEventStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Content-Type-Options': 'nosniff',
    });
    res.write(': appraise events\n\n');
    streams.add(res);
    const unsubscribe = dispatcher.onEvent((e) => {
      res.write(`data: ${JSON.stringify(e)}\n\n`);
    });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    const done = () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
    };
    req.on('close', done);
    res.on('close', done);
  }

  function serveStatic(pathname: string, req: IncomingMessage, res: ServerResponse): void {
    if (!staticDir) return sendError(res, 404, 'NOT_FOUND', 'this host serves the API only');
    let rel: string;
    try {
      rel = decodeURIComponent(pathname);
    } catch {
      return sendError(res, 400, 'INVALID_INPUT', 'bad path');
    }
    if (rel === '/' || rel === '') rel = '/index.html';
    const file = resolve(join(staticDir, rel));
    if (!file.startsWith(staticDir + sep) || rel.includes('\0')) return sendError(res, 404, 'NOT_FOUND', 'no such file');
    if (!existsSync(file) || !statSync(file).isFile()) {
      if (rel === '/index.html') return sendError(res, 404, 'NOT_FOUND', 'the renderer is not built: run npm run build:renderer');
      return sendError(res, 404, 'NOT_FOUND', 'no such file');
    }
    const isHtml = file.endsWith('.html');
    res.writeHead(200, {
      'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
      'Content-Length': statSync(file).size,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': isHtml ? 'no-store' : 'max-age=3600',
      ...(isHtml ? { 'Content-Security-Policy': RENDERER_CSP, 'X-Frame-Options': 'DENY', 'Cross-Origin-Opener-Policy': 'same-origin' } : {}),
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).pipe(res);
  }

  return {
    server,
    token,
    closeStreams: () => {
      for (const s of streams) s.end();
      streams.clear();
    },
  };
}

/** Starts the host on 127.0.0.1 (port 0 = a free port chosen by the OS). */
export async function listenWebHost(options: WebHostOptions & { port?: number }): Promise<ListeningWebHost> {
  const host = buildWebHost(options);
  await new Promise<void>((resolvePromise, reject) => {
    host.server.once('error', reject);
    host.server.listen(options.port ?? 0, '127.0.0.1', () => {
      host.server.off('error', reject);
      resolvePromise();
    });
  });
  const port = (host.server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    ...host,
    port,
    origin,
    url: `${origin}/#token=${host.token}`,
    close: () =>
      new Promise<void>((resolvePromise) => {
        host.closeStreams();
        host.server.close(() => resolvePromise());
        host.server.closeAllConnections();
      }),
  };
}

/** Returns why the Host header is refused, or null. */
export function checkHost(hostHeader: string | undefined, port: number | null): string | null {
  if (!hostHeader) return 'a Host header is required';
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader.trim().toLowerCase());
  if (!m || !LOOPBACK_HOSTS.has(m[1])) return `this host answers only to 127.0.0.1 or localhost, not "${hostHeader.slice(0, 100)}"`;
  if (port !== null && m[2] !== undefined && Number(m[2]) !== port) return `wrong port in the Host header "${hostHeader.slice(0, 100)}"`;
  return null;
}

/** Returns why a browser Origin is refused, or null (no Origin: not a cross-site browser request). */
export function checkOrigin(origin: string | undefined, port: number | null): string | null {
  if (origin === undefined) return null;
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return `cross-origin requests are refused (Origin "${origin.slice(0, 100)}")`;
  }
  const hostOk = u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname === '::1' ? '[::1]' : u.hostname);
  const portOk = port === null || Number(u.port) === port;
  return hostOk && portOk ? null : `cross-origin requests are refused (Origin "${origin.slice(0, 100)}")`;
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer | null> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > max) {
        over = true;
        chunks.length = 0;
        resolvePromise(null);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!over) resolvePromise(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, code: ErrorCode, message: string): void {
  sendJson(res, status, errorResponse(new AppraiseError(code, message)));
}

/** HTTP status per error code: the caller's mistakes are 4xx, only bugs are 500. */
const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_INPUT: 400,
  INVALID_CONFIG: 400,
  BAD_FILE: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  CANCELLED: 409,
  TOO_LARGE: 413,
  LOCKED: 423,
  RATE_LIMITED: 429,
  OFFLINE: 503,
  INTERNAL: 500,
};
