import { afterAll, beforeAll, expect, test } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { buildRegistry, type Registry } from './build-registry.js';

// In-process (inject) checks of the HTTP edge: every bad request gets a 4xx with a reason and no data.

const dir = mkdtempSync(join(tmpdir(), 'appraise-registry-unit-'));
let registry: Registry;
let admin: string;
let publisher: string;

beforeAll(async () => {
  registry = await buildRegistry({ dataDir: dir });
  admin = (await registry.bootstrapAdmin('unit admin')).token;
  const issued = await registry.app.inject({
    method: 'POST',
    url: '/admin/credentials',
    headers: { authorization: `Bearer ${admin}` },
    payload: { role: 'publisher', name: 'p' },
  });
  expect(issued.statusCode).toBe(201);
  publisher = issued.json<{ token: string }>().token;
});

afterAll(async () => {
  await registry.close();
  rmSync(dir, { recursive: true, force: true });
});

test('/health, /ready and the OpenAPI document answer', async () => {
  expect((await registry.app.inject('/health')).json()).toEqual({ ok: true });
  expect((await registry.app.inject('/ready')).json()).toEqual({ ready: true });
  const doc = await registry.app.inject('/docs/json');
  expect(doc.statusCode).toBe(200);
  expect(Object.keys(doc.json<{ paths: Record<string, unknown> }>().paths)).toEqual(
    expect.arrayContaining(['/enrol', '/reports', '/publish/{region}/{channel}']),
  );
});

test('no token, an unknown token and the wrong role are 401, 401 and 403, with no data', async () => {
  const none = await registry.app.inject('/admin/devices');
  expect(none.statusCode).toBe(401);
  expect(none.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.stringMatching(/needs a registry token/) } });
  expect((await registry.app.inject({ url: '/admin/devices', headers: { authorization: 'Bearer apt_forged' } })).statusCode).toBe(401);
  const wrongRole = await registry.app.inject({ url: '/admin/devices', headers: { authorization: `Bearer ${publisher}` } });
  expect(wrongRole.statusCode).toBe(403);
  expect(wrongRole.body).not.toContain('devices":');
});

test('malformed, invalid and oversized bodies are 4xx with a reason, never a crash', async () => {
  const auth = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' };
  const notJson = await registry.app.inject({ method: 'POST', url: '/admin/repositories', headers: auth, payload: '{"region": ' });
  expect(notJson.statusCode).toBe(400);
  const badRegion = await registry.app.inject({ method: 'POST', url: '/admin/repositories', headers: auth, payload: { region: '../etc', channel: 'stable' } });
  expect(badRegion.statusCode).toBe(400);
  expect(badRegion.json<{ error: { code: string; message: string } }>().error).toMatchObject({
    code: 'INVALID_INPUT',
    message: expect.stringMatching(/lower-case letters/),
  });
  const big = await registry.app.inject({
    method: 'POST',
    url: '/enrol',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ code: 'x'.repeat(2_000_000), name: 'n', publicKey: '0'.repeat(64) }),
  });
  expect(big.statusCode).toBe(413);
  const badKey = await registry.app.inject({ method: 'POST', url: '/enrol', payload: { code: 'enr_00000000', name: 'n', publicKey: 'nope' } });
  expect(badKey.statusCode).toBe(400);
  expect(badKey.body).toMatch(/64 hex characters/);
  const unknownRepo = await registry.app.inject({ method: 'POST', url: '/admin/enrolment-codes', headers: auth, payload: { region: 'nowhere' } });
  expect(unknownRepo.statusCode).toBe(404);
  // Still serving after all that.
  expect((await registry.app.inject('/health')).statusCode).toBe(200);
});

test('tokens are stored only as hashes, and the audit log refuses edits', async () => {
  const db = new Database(join(dir, 'registry.db'), { readonly: false });
  try {
    const hashes = db.prepare('SELECT token_hash FROM credentials').all() as { token_hash: string }[];
    expect(hashes.length).toBeGreaterThanOrEqual(2);
    const dump = JSON.stringify(db.prepare('SELECT * FROM credentials').all());
    expect(dump).not.toContain(admin);
    expect(dump).not.toContain(publisher);
    expect(() => db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
    expect(() => db.prepare("UPDATE audit SET actor = 'someone else'").run()).toThrow(/append-only/);
  } finally {
    db.close();
  }
});

test('rate limits apply per credential', async () => {
  const limited = await buildRegistry({ dataDir: join(dir, 'limited'), rateLimitPerMinute: 3 });
  try {
    const token = (await limited.bootstrapAdmin('a')).token;
    const other = (await limited.bootstrapAdmin('b')).token;
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await limited.app.inject({ url: '/admin/devices', headers: { authorization: `Bearer ${token}` } })).statusCode);
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    // The refusal says what it is (not FORBIDDEN: the credential is fine) and when to come back.
    const refused = await limited.app.inject({ url: '/admin/devices', headers: { authorization: `Bearer ${token}` } });
    expect(refused.json()).toMatchObject({ error: { code: 'RATE_LIMITED', message: /too many requests/ } });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await limited.app.inject({ url: '/admin/devices', headers: { authorization: `Bearer ${other}` } })).statusCode).toBe(200);
  } finally {
    await limited.close();
  }
});
