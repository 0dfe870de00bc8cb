import { test, expect, afterAll } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/temp-workspace.js';
import { runCli } from './helpers/run-cli.js';
import { openDatasetServices } from '../core/services/open-datasets.js';

const { dir, cleanup } = tempDir('appraise-sealed-export-');
afterAll(cleanup);

const PASS = { APPRAISE_EXPORT_PASSPHRASE: 'for the reviewer only' };

test('audit export --encrypt: sealed on disk, verified and decrypted only with its passphrase, a changed byte refused', async () => {
  const ws = join(dir, 'ws');
  expect((await runCli(['-w', ws, 'init', '--json'])).code).toBe(0);

  // --encrypt without a passphrase: a clear input error, and no export recorded in the trail.
  const none = await runCli(['-w', ws, 'audit', 'export', '--out', join(dir, 'x.sealed'), '--encrypt'], { APPRAISE_EXPORT_PASSPHRASE: '' });
  expect(none.code).toBe(1);
  expect(none.stderr).toMatch(/passphrase for the encrypted export is needed/);
  const before = openDatasetServices(ws);
  expect(before.audit.all().filter((e) => e.action === 'audit.export')).toHaveLength(0);
  before.close();

  const out = join(dir, 'audit.sealed');
  const exported = await runCli(['-w', ws, 'audit', 'export', '--out', out, '--encrypt', '--json'], PASS);
  expect(exported.code, exported.stderr).toBe(0);
  expect(JSON.parse(exported.stdout)).toMatchObject({ encrypted: true, entries: 1 });
  const sealed = readFileSync(out);
  expect(sealed.subarray(0, 8).toString('latin1')).toBe('APPRSEAL');
  expect(sealed.includes('audit.export')).toBe(false);
  expect(sealed.includes('signature')).toBe(false);

  const locked = await runCli(['audit', 'verify', '--export', out]);
  expect(locked.code).toBe(1);
  expect(locked.stderr).toMatch(/is encrypted; give its passphrase/);
  const verified = await runCli(['audit', 'verify', '--export', out, '--json'], PASS);
  expect(verified.code, verified.stderr).toBe(0);
  expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, entries: 1 });

  const plainOut = join(dir, 'audit.json');
  const decrypted = await runCli(['decrypt', out, '--out', plainOut], PASS);
  expect(decrypted.code, decrypted.stderr).toBe(0);
  const doc = JSON.parse(readFileSync(plainOut, 'utf8')) as { format: string; entries: { action: string }[]; signature: string };
  expect(doc.format).toBe('appraise-audit-export/1');
  expect(doc.entries.map((e) => e.action)).toEqual(['audit.export']);
  // The decrypted file is the signed export itself: it verifies without a passphrase.
  expect((await runCli(['audit', 'verify', '--export', plainOut])).code).toBe(0);

  const wrong = await runCli(['decrypt', out], { APPRAISE_EXPORT_PASSPHRASE: 'not the passphrase' });
  expect(wrong.code).toBe(1);
  expect(wrong.stderr).toMatch(/that passphrase does not open/);
  expect(wrong.stdout).toBe('');

  const bad = Buffer.from(sealed);
  bad[bad.length - 40] ^= 0x10;
  const tampered = join(dir, 'tampered.sealed');
  writeFileSync(tampered, bad);
  const refused = await runCli(['decrypt', tampered, '--out', join(dir, 'never.json')], PASS);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/changed or damaged after it was sealed/);
  expect(existsSync(join(dir, 'never.json'))).toBe(false);

  const notSealed = await runCli(['decrypt', plainOut], PASS);
  expect(notSealed.code).toBe(1);
  expect(notSealed.stderr).toMatch(/not an Appraise sealed file/);
}, 120_000);

test('workspace encrypt and rekey on the command line are key.change entries in the audit trail', async () => {
  const ws = join(dir, 'keys');
  expect((await runCli(['-w', ws, 'init', '--json'])).code).toBe(0);
  const enc = await runCli(['-w', ws, 'workspace', 'encrypt', '--json'], { APPRAISE_WORKSPACE_KEY: 'first passphrase' });
  expect(enc.code, enc.stderr).toBe(0);
  const rekey = await runCli(['-w', ws, 'workspace', 'rekey', '--json'], {
    APPRAISE_WORKSPACE_KEY: 'first passphrase',
    APPRAISE_NEW_WORKSPACE_KEY: 'second passphrase',
  });
  expect(rekey.code, rekey.stderr).toBe(0);
  const s = openDatasetServices(ws, { passphrase: 'second passphrase' });
  try {
    expect(
      s.audit
        .all()
        .filter((e) => e.action === 'key.change')
        .map((e) => [e.ids.kind, e.outcome]),
    ).toEqual([
      ['encrypt', 'ok'],
      ['rekey', 'ok'],
    ]);
  } finally {
    s.close();
  }
}, 120_000);
