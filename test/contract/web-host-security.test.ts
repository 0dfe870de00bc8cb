import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkHost, checkOrigin, listenWebHost, TOKEN_HEADER, type ListeningWebHost } from '../../core/api/web-host.js';
import { tempAppHost } from '../helpers/temp-workspace.js';

/** Raw HTTP so the test controls Host and Origin exactly (fetch would set them itself). */
function raw(host: ListeningWebHost, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: host.port, method: opts.method ?? 'POST', path: opts.path, headers: { host: `127.0.0.1:${host.port}`, ...opts.headers } },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

describe('web host: token, Host/Origin and size checks', () => {
  let host: ListeningWebHost;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    const app = await tempAppHost();
    const staticDir = join(app.dir, 'static');
    mkdirSync(staticDir);
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(app.dir, 'secret.txt'), 'secret');
    host = await listenWebHost({ dispatcher: app.dispatcher, staticDir, maxBodyBytes: 4096 });
    cleanup = app.cleanup;
  });
  afterAll(async () => {
    await host.close();
    await cleanup();
  });

  const json = { 'content-type': 'application/json' };

  it('prints a URL carrying the token in the fragment, on 127.0.0.1', () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{20,}$/);
  });

  it('refuses API calls without the token, or with a wrong one, with 401 and a JSON body', async () => {
    for (const headers of [json, { ...json, [TOKEN_HEADER]: 'wrong' }, { ...json, [TOKEN_HEADER]: `${host.token}x` }]) {
      const r = await raw(host, { path: '/api/datasets.list', headers, body: '{}' });
      expect(r.status).toBe(401);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    }
    const events = await raw(host, { method: 'GET', path: '/api/events' });
    expect(events.status).toBe(401);
  });

  it('accepts the right token', async () => {
    const r = await raw(host, { path: '/api/datasets.list', headers: { ...json, [TOKEN_HEADER]: host.token }, body: '{}' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ ok: true, result: [] });
  });

  it('refuses a foreign Host header (DNS rebinding) even with the token', async () => {
    for (const h of ['evil.example:80', `attacker.test:${host.port}`, `127.0.0.1.nip.io:${host.port}`]) {
      const r = await raw(host, { path: '/api/datasets.list', headers: { ...json, host: h, [TOKEN_HEADER]: host.token }, body: '{}' });
      expect(r.status).toBe(403);
      expect(JSON.parse(r.body).error.code).toBe('FORBIDDEN');
    }
    const page = await raw(host, { method: 'GET', path: '/', headers: { host: 'evil.example' } });
    expect(page.status).toBe(403);
  });

  it('refuses a cross-site Origin even with the token', async () => {
    for (const o of ['http://evil.example', 'null', `http://127.0.0.1:${host.port + 1}`, `https://127.0.0.1:${host.port}`]) {
      const r = await raw(host, { path: '/api/datasets.list', headers: { ...json, origin: o, [TOKEN_HEADER]: host.token }, body: '{}' });
      expect(r.status, o).toBe(403);
    }
    const same = await raw(host, { path: '/api/datasets.list', headers: { ...json, origin: host.origin, [TOKEN_HEADER]: host.token }, body: '{}' });
    expect(same.status).toBe(200);
  });

  it('refuses bodies over the limit with 413, non-JSON with 400/415, GET on methods with 405 — all with JSON bodies', async () => {
    const auth = { ...json, [TOKEN_HEADER]: host.token };
    const big = await raw(host, { path: '/api/form.validate', headers: auth, body: JSON.stringify({ input: { a: 'x'.repeat(10_000) } }) });
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body).error.code).toBe('TOO_LARGE');
    const notJson = await raw(host, { path: '/api/datasets.list', headers: auth, body: '{not json' });
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.body).error.code).toBe('INVALID_INPUT');
    const form = await raw(host, { path: '/api/datasets.list', headers: { 'content-type': 'text/plain', [TOKEN_HEADER]: host.token }, body: '{}' });
    expect(form.status).toBe(415);
    const badPath = await raw(host, { path: '/api/%E0%A4%A', headers: auth, body: '{}' });
    expect(badPath.status).toBe(400);
    expect(JSON.parse(badPath.body).error.code).toBe('INVALID_INPUT');
    const get = await raw(host, { method: 'GET', path: '/api/datasets.list', headers: { [TOKEN_HEADER]: host.token } });
    expect(get.status).toBe(405);
    expect(JSON.parse(get.body).error.message).toMatch(/POST/);
  });

  it('serves the renderer with a strict CSP header and never files outside its folder', async () => {
    const page = await raw(host, { method: 'GET', path: '/' });
    expect(page.status).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-eval');
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/static/../secret.txt']) {
      const r = await raw(host, { method: 'GET', path: p });
      expect(r.status, p).toBe(404);
      expect(r.body).not.toContain('secret');
    }
  });

  it('streams job events to token holders', async () => {
    const controller = new AbortController();
    const res = await fetch(`${host.origin}/api/events`, { headers: { [TOKEN_HEADER]: host.token }, signal: controller.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    await fetch(`${host.origin}/api/datasets.ingest`, {
      method: 'POST',
      headers: { ...json, [TOKEN_HEADER]: host.token },
      body: JSON.stringify({ file: '/nope.csv', config: '/nope.yaml' }),
    });
    let text = '';
    while (!text.includes('"state":"failed"')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    expect(text).toContain('"method":"datasets.ingest"');
  });

  it('Host and Origin checks are pure functions', () => {
    expect(checkHost('127.0.0.1:8080', 8080)).toBeNull();
    expect(checkHost('localhost:8080', 8080)).toBeNull();
    expect(checkHost('localhost:8081', 8080)).not.toBeNull();
    expect(checkHost(undefined, 8080)).not.toBeNull();
    expect(checkOrigin(undefined, 8080)).toBeNull();
    expect(checkOrigin('http://localhost:8080', 8080)).toBeNull();
    expect(checkOrigin('http://localhost.evil:8080', 8080)).not.toBeNull();
  });
});
