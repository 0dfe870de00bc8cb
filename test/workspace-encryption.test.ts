import { test, expect, afterAll } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { tempDir, kcCsv, kcConfig, repoRoot } from './helpers/temp-workspace.js';
import { openServices } from '../core/services/open-workspace.js';
import { Workspace, DATABASE_FILE } from '../core/workspace/workspace.js';
import { encryptWorkspace, rekeyWorkspace } from '../core/workspace/workspace-encryption.js';
import { KEY_FILE } from '../core/workspace/workspace-key.js';
import { workspaceFingerprint, errorOf } from './helpers/workspace-fingerprint.js';

const { dir, cleanup } = tempDir('appraise-crypto-');
afterAll(cleanup);

const lines = readFileSync(kcCsv, 'utf8').split(/\r?\n/).filter(Boolean);
const small = join(dir, 'small.csv');
writeFileSync(small, lines.slice(0, 301).join('\n'));
const other = join(dir, 'other.csv');
writeFileSync(other, [lines[0], ...lines.slice(301, 501)].join('\n'));
// A sale id from the data: its digits are stored as text, so they show in a plain database file.
const knownId = lines[1].split(',')[0];
const PASS = 'correct horse battery';

async function plainWorkspace(name: string): Promise<string> {
  const ws = join(dir, name);
  const s = openServices(ws);
  await s.datasets.ingest({ file: small, config: kcConfig(), name: 'kc300' });
  await s.close();
  return ws;
}

test('encrypt keeps every row, leaves no plaintext in the files, and needs the passphrase to open', async () => {
  const ws = await plainWorkspace('enc');
  const before = Workspace.open(ws, { passphrase: undefined });
  const fp = workspaceFingerprint(before);
  before.close();
  expect(fp.counts.sales ?? Object.values(fp.counts).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  // The plain file does hold the sale id: the search below can fail.
  expect(readFileSync(join(ws, DATABASE_FILE)).includes(knownId)).toBe(true);

  const result = encryptWorkspace(ws, PASS);
  expect(result.rows).toBeGreaterThanOrEqual(300);
  expect(existsSync(join(ws, KEY_FILE))).toBe(true);
  for (const f of readdirSync(ws).filter((f) => f.startsWith(DATABASE_FILE))) {
    const bytes = readFileSync(join(ws, f));
    expect(bytes.includes(knownId), f).toBe(false);
    expect(bytes.includes('SQLite format 3'), f).toBe(false);
  }

  const missing = errorOf(() => Workspace.open(ws, { passphrase: undefined }));
  expect(missing.code).toBe('LOCKED');
  expect(missing.message).toMatch(/encrypted; give its passphrase/);
  const wrong = errorOf(() => Workspace.open(ws, { passphrase: 'not the passphrase' }));
  expect(wrong.code).toBe('LOCKED');
  expect(wrong.message).toMatch(/does not unlock this workspace/);
  expect(wrong.message).not.toMatch(/not a database/);

  const after = Workspace.open(ws, { passphrase: PASS });
  expect(after.encrypted).toBe(true);
  expect(after.db.pragma('journal_mode', { simple: true })).toBe('wal');
  expect(workspaceFingerprint(after)).toEqual(fp);
  after.close();

  // Services (ingest, history) keep working; writes to the WAL are encrypted too.
  const s = openServices(ws, { passphrase: PASS });
  await s.datasets.ingest({ file: other, config: kcConfig(), name: 'other' });
  expect(readFileSync(join(ws, `${DATABASE_FILE}-wal`)).includes(lines[301].split(',')[0])).toBe(false); // a sale only in the second file
  expect((await s.datasets.list()).length).toBe(2);
  await s.close();

  expect(errorOf(() => encryptWorkspace(ws, PASS)).code).toBe('CONFLICT');
});

test('rekey changes the passphrase and keeps the data', async () => {
  const ws = await plainWorkspace('rekey');
  encryptWorkspace(ws, PASS);
  const a = Workspace.open(ws, { passphrase: PASS });
  const fp = workspaceFingerprint(a);
  a.close();
  expect(errorOf(() => rekeyWorkspace(ws, 'wrong passphrase', 'new passphrase 2')).code).toBe('LOCKED');
  rekeyWorkspace(ws, PASS, 'new passphrase 2');
  expect(errorOf(() => Workspace.open(ws, { passphrase: PASS })).code).toBe('LOCKED');
  const b = Workspace.open(ws, { passphrase: 'new passphrase 2' });
  expect(workspaceFingerprint(b)).toEqual(fp);
  b.close();
});

test('opening an encrypted workspace without its key never creates a new empty one', async () => {
  const ws = await plainWorkspace('nokey');
  encryptWorkspace(ws, PASS);
  const size = readFileSync(join(ws, DATABASE_FILE)).length;
  expect(errorOf(() => openServices(ws)).code).toBe('LOCKED');
  expect(readFileSync(join(ws, DATABASE_FILE)).length).toBe(size);
});

test('a crash mid-encrypt (child process killed) leaves the workspace usable', async () => {
  const ws = await plainWorkspace('crash');
  // Filler so the copy takes long enough for the kills to land inside it.
  const pad = Workspace.open(ws);
  pad.db.exec('CREATE TABLE filler(x BLOB)');
  const ins = pad.db.prepare('INSERT INTO filler VALUES (randomblob(4000))');
  pad.db.transaction(() => {
    for (let i = 0; i < 4000; i++) ins.run();
  })();
  const fp = workspaceFingerprint(pad);
  pad.close();

  const script = join(dir, 'encrypt-child.ts');
  writeFileSync(
    script,
    `import { encryptWorkspace } from ${JSON.stringify(join(repoRoot, 'core/workspace/workspace-encryption.ts'))};\n` +
      `process.stdout.write('start\\n');\nencryptWorkspace(process.argv[2], process.argv[3]);\nprocess.stdout.write('done\\n');\n`,
  );
  const outcomes: string[] = [];
  for (const delayMs of [0, 120, 400]) {
    if (existsSync(join(ws, KEY_FILE))) break; // one run got through: the rest is covered
    const child = spawn(process.execPath, ['--import', 'tsx', script, ws, PASS], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('start')) setTimeout(() => child.kill('SIGKILL'), delayMs);
      });
      child.on('close', () => resolve());
    });
    outcomes.push(out.includes('done') ? 'finished' : 'killed');
    // Whatever state the kill left, the workspace opens (plain, or encrypted with the passphrase) with every row.
    const opened = Workspace.open(ws, { passphrase: PASS });
    expect(workspaceFingerprint(opened)).toEqual(fp);
    opened.close();
  }
  expect(outcomes).toContain('killed');
}, 150_000);

test('batch scoring works on an encrypted workspace, from a file and from a workspace dataset, and no scored row reaches the database files in plain text', async () => {
  const ws = await plainWorkspace('enc-score');
  encryptWorkspace(ws, PASS);
  const s = openServices(ws, { passphrase: PASS });
  try {
    const model = join(repoRoot, 'models', 'king-county');
    const imported = s.models.importFrom(join(model, 'model.onnx'), join(model, 'manifest.json'));
    const fromFile = await s.valuation.score(imported.id, other, join(dir, 'scored-file.csv'));
    expect([fromFile.rows, fromFile.scored, fromFile.failed]).toEqual([200, 200, 0]);
    const dataset = (await s.datasets.list()).find((d) => d.name === 'kc300');
    expect(dataset).toBeDefined();
    const fromDataset = await s.valuation.score(imported.id, dataset!.id, join(dir, 'scored-dataset.csv'));
    expect(fromDataset.scored).toBe(300);
    const out = readFileSync(join(dir, 'scored-dataset.csv'), 'utf8').trim().split('\n');
    expect(out).toHaveLength(301);
    const header = out[0].split(',');
    const estimate = header.indexOf('appraise_estimate');
    expect(estimate).toBeGreaterThan(0);
    expect(out.slice(1).every((l) => Number(l.split(',')[estimate]) > 0)).toBe(true);
  } finally {
    await s.close();
  }
  // Nothing of the scored rows reached the database files in plain text.
  for (const f of readdirSync(ws).filter((f) => f.startsWith(DATABASE_FILE))) {
    expect(readFileSync(join(ws, f)).includes(lines[301].split(',')[0]), f).toBe(false);
  }
});
