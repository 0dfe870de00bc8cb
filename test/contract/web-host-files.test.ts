/**
 * The web host's uploads and downloads (core/api/file-transfer.ts) on a confined host, over real HTTP on loopback:
 * an upload lands in the workspace's files/uploads/ under its own (reduced) name and nowhere else; too large a file
 * is refused with the limit in words and leaves nothing behind (declared, or streamed without a length); downloads
 * serve uploaded files and results only — not the workspace's database, not the rest of the disk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { listenWebHost, TOKEN_HEADER, type ListeningWebHost } from '../../core/api/web-host.js';
import { tempAppHost, tempDir } from '../helpers/temp-workspace.js';

type Reply = { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer };

function send(
  host: ListeningWebHost,
  o: { method?: string; path: string; headers?: Record<string, string>; chunks?: Buffer[]; length?: boolean },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body = Buffer.concat(o.chunks ?? []);
    const headers: Record<string, string> = { host: `127.0.0.1:${host.port}`, ...o.headers };
    if (o.chunks && o.length !== false) headers['content-length'] = String(body.length);
    const req = request({ host: '127.0.0.1', port: host.port, method: o.method ?? 'POST', path: o.path, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    // Without a length the body goes chunked, in pieces, as a stream would.
    for (const c of o.chunks ?? []) req.write(c);
    req.end();
  });
}

describe('web host: file uploads and downloads', () => {
  let app: Awaited<ReturnType<typeof tempAppHost>>;
  let host: ListeningWebHost;
  const outside = tempDir('appraise-outside-');
  const LIMIT = 64 * 1024;
  const token = () => ({ [TOKEN_HEADER]: host.token, 'content-type': 'application/octet-stream' });
  const uploadsDir = () => join(app.services.workspace.dir, 'files', 'uploads');
  const upload = (name: string, chunks: Buffer[], length = true) =>
    send(host, { path: `/api/files/upload?name=${encodeURIComponent(name)}`, headers: token(), chunks, length });
  const download = (path: string, headers: Record<string, string> = { [TOKEN_HEADER]: host.token }) =>
    send(host, { method: 'GET', path: `/api/files/download?path=${encodeURIComponent(path)}`, headers });

  beforeAll(async () => {
    app = await tempAppHost({ processName: 'none', confine: { allowDirs: [] } });
    host = await listenWebHost({
      dispatcher: app.dispatcher,
      staticDir: null,
      files: { dir: join(app.services.workspace.dir, 'files'), maxUploadBytes: LIMIT },
    });
  });
  afterAll(async () => {
    await host?.close();
    await app?.cleanup();
    outside.cleanup();
  });

  it('stores an upload in its own folder of files/uploads under its name, and downloads it back', async () => {
    const csv = Buffer.from('id,price\n1,100\n2,200\n');
    const r = await upload('sales march.csv', [csv]);
    expect(r.status).toBe(200);
    const { result } = JSON.parse(r.body.toString()) as { result: { path: string; name: string; bytes: number } };
    expect(result.name).toBe('sales march.csv');
    expect(result.bytes).toBe(csv.length);
    expect(dirname(dirname(result.path))).toBe(uploadsDir());
    expect(readFileSync(result.path)).toEqual(csv);
    const d = await download(result.path);
    expect(d.status).toBe(200);
    expect(d.body).toEqual(csv);
    expect(d.headers['content-disposition']).toBe('attachment; filename="sales march.csv"');
  });

  it('keeps only the file name of a name with folders in it', async () => {
    const r = await upload('../../../etc/cron.d/evil.csv', [Buffer.from('a\n')]);
    expect(r.status).toBe(200);
    const { result } = JSON.parse(r.body.toString()) as { result: { path: string; name: string } };
    expect(result.name).toBe('evil.csv');
    expect(dirname(dirname(result.path))).toBe(uploadsDir());
  });

  it('refuses a file over the limit, declared or streamed, with the limit in words, and leaves nothing behind', async () => {
    const before = readdirSync(uploadsDir()).length;
    const big = Buffer.alloc(LIMIT + 1, 'x');
    for (const length of [true, false]) {
      const r = await upload('huge.csv', length ? [big] : [big.subarray(0, LIMIT / 2), big.subarray(LIMIT / 2)], length);
      expect(r.status).toBe(413);
      const { error } = JSON.parse(r.body.toString()) as { error: { code: string; message: string } };
      expect(error.code).toBe('TOO_LARGE');
      expect(error.message).toMatch(/"huge\.csv" is .*upload limit of 0\.1 MB/);
      expect(error.message).toContain('--allow-dir');
    }
    expect(readdirSync(uploadsDir()).length).toBe(before);
  });

  it('refuses uploads without the token, in another content type, or without a name', async () => {
    expect(
      (await send(host, { path: '/api/files/upload?name=a.csv', headers: { 'content-type': 'application/octet-stream' }, chunks: [Buffer.from('a')] })).status,
    ).toBe(401);
    const json = await send(host, {
      path: '/api/files/upload?name=a.csv',
      headers: { ...token(), 'content-type': 'application/json' },
      chunks: [Buffer.from('{}')],
    });
    expect(json.status).toBe(400);
    const unnamed = await send(host, { path: '/api/files/upload', headers: token(), chunks: [Buffer.from('a')] });
    expect(JSON.parse(unnamed.body.toString())).toMatchObject({ error: { code: 'INVALID_INPUT', message: expect.stringContaining('file name') } });
  });

  it('downloads nothing outside the uploads and allowed folders: not the workspace database, not other files', async () => {
    const secret = join(outside.dir, 'secret.csv');
    writeFileSync(secret, 'secret,data\n');
    const db = readdirSync(app.services.workspace.dir).find((f) => f.endsWith('.db') || f.endsWith('.sqlite'));
    expect(db).toBeDefined();
    for (const p of [secret, '/etc/passwd', join(app.services.workspace.dir, db!), join(uploadsDir(), '..', '..', db!)]) {
      const r = await download(p);
      expect(r.status, p).toBe(403);
      expect(r.body.toString()).not.toContain('secret,data');
      expect(JSON.parse(r.body.toString())).toMatchObject({ error: { code: 'FORBIDDEN' } });
    }
    expect((await download(join(uploadsDir(), 'nope.csv'))).status).toBe(404);
    expect((await download(secret, {})).status).toBe(401);
    expect(existsSync(secret)).toBe(true);
  });
});
