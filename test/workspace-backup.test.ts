import { test, expect, afterAll } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, kcCsv, kcConfig } from './helpers/temp-workspace.js';
import { runCli } from './helpers/run-cli.js';
import { openServices } from '../core/services/open-workspace.js';
import { Workspace, DATABASE_FILE } from '../core/workspace/workspace.js';
import { encryptWorkspace } from '../core/workspace/workspace-encryption.js';
import { createBackup, readBackup, restoreBackup } from '../core/workspace/workspace-backup.js';
import { workspaceFingerprint, errorOf } from './helpers/workspace-fingerprint.js';

const { dir, cleanup } = tempDir('appraise-backup-');
afterAll(cleanup);

const lines = readFileSync(kcCsv, 'utf8').split(/\r?\n/).filter(Boolean);
const small = join(dir, 'small.csv');
writeFileSync(small, lines.slice(0, 201).join('\n'));
const PASS = 'backup passphrase 1';
const ARTIFACT = Buffer.from('model bytes standing in for an ONNX file');

/** The hash of every row of every table (test/helpers/workspace-fingerprint.ts). */
const fingerprint = (ws: Workspace): string => workspaceFingerprint(ws).checksum;

async function workspaceWithData(name: string): Promise<{ ws: string; fp: string; artifact: string }> {
  const ws = join(dir, name);
  const s = openServices(ws);
  await s.datasets.ingest({ file: small, config: kcConfig(), name: 'kc200' });
  const artifact = s.workspace.artifacts.put(ARTIFACT);
  const fp = fingerprint(s.workspace);
  await s.close();
  return { ws, fp, artifact };
}

test('backup → restore round-trip gives the same rows and artifacts, while the source stays open', async () => {
  const { ws, fp, artifact } = await workspaceWithData('plain');
  const open = Workspace.open(ws); // the app is running: the snapshot must still be consistent
  const file = join(dir, 'out', 'plain.appraise-backup');
  const made = createBackup(ws, file, PASS);
  open.close();
  expect(made.files.map((f) => f.path)).toContain(DATABASE_FILE);
  expect(readFileSync(file).includes('kc200')).toBe(false); // sealed: the dataset name is not readable
  expect(readBackup(file, PASS).manifest.files.length).toBe(made.files.length);

  const target = join(dir, 'restored-plain');
  restoreBackup(file, target, PASS);
  const back = Workspace.open(target);
  expect(fingerprint(back)).toBe(fp);
  expect(back.artifacts.get(artifact).equals(ARTIFACT)).toBe(true);
  back.close();

  // A non-empty target is refused without --force, and left alone.
  const refused = errorOf(() => restoreBackup(file, target, PASS));
  expect(refused.code).toBe('CONFLICT');
  expect(refused.message).toMatch(/--force/);
  restoreBackup(file, target, PASS, { force: true });
  const again = Workspace.open(target);
  expect(fingerprint(again)).toBe(fp);
  again.close();
});

test('an encrypted workspace backs up and restores still encrypted', async () => {
  const { ws, fp } = await workspaceWithData('enc');
  encryptWorkspace(ws, PASS);
  const file = join(dir, 'enc.appraise-backup');
  expect(createBackup(ws, file, PASS).encryptedWorkspace).toBe(true);
  const target = join(dir, 'restored-enc');
  restoreBackup(file, target, PASS);
  expect(errorOf(() => Workspace.open(target, { passphrase: undefined })).code).toBe('LOCKED');
  const back = Workspace.open(target, { passphrase: PASS });
  expect(fingerprint(back)).toBe(fp);
  back.close();
});

test('a tampered or truncated backup, or a wrong passphrase, is refused and restores nothing', async () => {
  const { ws } = await workspaceWithData('tamper');
  const file = join(dir, 'tamper.appraise-backup');
  createBackup(ws, file, PASS);
  const bytes = readFileSync(file);

  const wrong = errorOf(() => readBackup(file, 'not the passphrase'));
  expect(wrong.code).toBe('LOCKED');

  const flipped = Buffer.from(bytes);
  flipped[flipped.length - 100] ^= 0x01;
  const tampered = join(dir, 'tampered.appraise-backup');
  writeFileSync(tampered, flipped);
  const target = join(dir, 'never');
  const e = errorOf(() => restoreBackup(tampered, target, PASS));
  expect(e.code).toBe('BAD_FILE');
  expect(e.message).toMatch(/changed or damaged/);
  expect(existsSync(target)).toBe(false);

  const cut = join(dir, 'cut.appraise-backup');
  writeFileSync(cut, bytes.subarray(0, bytes.length - 500));
  expect(errorOf(() => readBackup(cut, PASS)).code).toBe('BAD_FILE');
  const junk = join(dir, 'junk.appraise-backup');
  writeFileSync(junk, 'id,price\n1,2\n');
  expect(errorOf(() => readBackup(junk, PASS)).message).toMatch(/not an Appraise backup/);
});

test('CLI: workspace encrypt, a wrong passphrase in plain words, backup create/verify/restore', async () => {
  const { ws } = await workspaceWithData('cli');
  const passFile = join(dir, 'pass.txt');
  writeFileSync(passFile, `${PASS}\n`);
  const enc = await runCli(['-w', ws, '--passphrase-file', passFile, 'workspace', 'encrypt', '--json']);
  expect(enc.code, enc.stderr).toBe(0);
  expect(JSON.parse(enc.stdout).rows).toBeGreaterThan(0);

  const locked = await runCli(['-w', ws, 'datasets', 'list', '--json'], { APPRAISE_WORKSPACE_KEY: '' });
  expect(locked.code).toBe(1);
  expect(JSON.parse(locked.stdout).error.code).toBe('LOCKED');
  const wrong = await runCli(['-w', ws, 'datasets', 'list'], { APPRAISE_WORKSPACE_KEY: 'wrong passphrase!' });
  expect(wrong.code).toBe(1);
  expect(wrong.stderr).toMatch(/that passphrase does not unlock this workspace/);
  expect(wrong.stderr).not.toMatch(/internal error|not a database/);

  const file = join(dir, 'cli.appraise-backup');
  expect((await runCli(['-w', ws, '--passphrase-file', passFile, 'backup', 'create', '--to', file, '-q'])).code).toBe(0);
  expect((await runCli(['--passphrase-file', passFile, 'backup', 'verify', file, '-q'])).code).toBe(0);
  const occupied = join(dir, 'occupied');
  mkdirSync(occupied);
  writeFileSync(join(occupied, 'notes.txt'), 'keep me');
  const refused = await runCli(['-w', occupied, '--passphrase-file', passFile, 'backup', 'restore', file]);
  expect(refused.code).toBe(1);
  expect(readFileSync(join(occupied, 'notes.txt'), 'utf8')).toBe('keep me');
}, 150_000);
