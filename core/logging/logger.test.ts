import { test, expect, afterAll } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openLogger, silentLogger } from './logger.js';
import { logFileNumber } from './log-record.js';

const root = mkdtempSync(join(tmpdir(), 'appraise-logger-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `logs-${++n}`);

const logFilesIn = (dir: string) => readdirSync(dir).filter((f) => logFileNumber(f) !== null);
const linesIn = (dir: string) =>
  logFilesIn(dir)
    .sort((a, b) => logFileNumber(a)! - logFileNumber(b)!)
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function eventually(check: () => boolean, ms = 3000): Promise<void> {
  for (const start = Date.now(); !check(); await sleep(20)) if (Date.now() - start > ms) return;
}

test('rotation caps both the size of a file and the number of files', async () => {
  const dir = freshDir();
  const maxFileBytes = 2048;
  const log = await openLogger({ dir, processName: 'cli', maxFileBytes, maxFiles: 3 });
  const padding = 'x'.repeat(120);
  for (let i = 0; i < 300; i++) {
    log.logger.info({ i, padding }, 'line');
    // Rotation happens between writes (pino-roll rolls on the stream's drain); real processes log with pauses too.
    await new Promise((r) => setImmediate(r));
  }
  await log.close();
  // Pruning the oldest file runs after the rotation that triggers it.
  await eventually(() => logFilesIn(dir).length <= 3);

  const files = logFilesIn(dir);
  expect(files.length).toBeGreaterThanOrEqual(2);
  expect(files.length).toBeLessThanOrEqual(3);
  const lineBytes =
    Buffer.byteLength(JSON.stringify({ level: 'info', time: new Date().toISOString(), process: 'cli', pid: process.pid, i: 299, padding, msg: 'line' })) + 1;
  for (const f of files) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(maxFileBytes + 2 * lineBytes);
  const kept = linesIn(dir).map((r) => r.i as number);
  expect(kept.at(-1)).toBe(299); // the newest lines are kept…
  expect(kept).not.toContain(0); // …the oldest were deleted with their file
  expect(kept).toEqual([...kept].sort((a, b) => a - b));
});

test('every line carries process and pid; children add their ids', async () => {
  const dir = freshDir();
  const log = await openLogger({ dir, processName: 'web' });
  const job = log.logger.child({ jobId: 'job-1' });
  for (let i = 0; i < 2000; i++) job.info({ i }, 'working');
  await log.close();
  const lines = linesIn(dir);
  expect(lines).toHaveLength(2000);
  expect(lines[1999]).toMatchObject({ level: 'info', process: 'web', pid: process.pid, jobId: 'job-1', i: 1999, msg: 'working' });
  expect(Number.isNaN(Date.parse(lines[0].time as string))).toBe(false);
});

test('a process that exits right after logging keeps its last line', () => {
  const dir = freshDir();
  const script = `
    import { openLogger } from ${JSON.stringify(new URL('./logger.ts', import.meta.url).href)};
    const log = await openLogger({ dir: ${JSON.stringify(dir)}, processName: 'cli' });
    log.logger.info('first');
    log.logger.error({ code: 'X' }, 'last words');
    process.exit(3);
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(3);
  expect(linesIn(dir).map((l) => l.msg)).toEqual(['first', 'last words']);
});

test('a folder that cannot be written gives a silent logger and one report, never an exception', async () => {
  const blocker = join(root, 'a-file');
  writeFileSync(blocker, 'not a folder');
  const reports: Error[] = [];
  const log = await openLogger({ dir: join(blocker, 'logs'), processName: 'cli', onError: (e) => reports.push(e) });
  expect(log.dir).toBeNull();
  expect(() => log.logger.error({ token: 't' }, 'goes nowhere')).not.toThrow();
  await log.close();
  expect(reports).toHaveLength(1);
  expect(reports[0].message).toMatch(/ENOTDIR|EEXIST|not a directory/i);
});

test('an unknown level falls back to info and says so', async () => {
  const dir = freshDir();
  const reports: string[] = [];
  const log = await openLogger({ dir, processName: 'cli', level: 'loud', onError: (e) => reports.push(e.message) });
  log.logger.debug('hidden');
  log.logger.info('shown');
  await log.close();
  expect(reports).toEqual([expect.stringContaining('unknown log level "loud"')]);
  expect(linesIn(dir).map((l) => l.msg)).toEqual(['shown']);
});

test('loggers opened on one folder share its writer: closing one leaves the other writing', async () => {
  const dir = freshDir();
  const cli = await openLogger({ dir, processName: 'cli' });
  const web = await openLogger({ dir, processName: 'web' });
  cli.logger.info('from cli');
  await cli.close();
  web.logger.info('from web, after the cli logger closed');
  await web.close();
  expect(linesIn(dir).map((l) => `${l.process}: ${l.msg}`)).toEqual(['cli: from cli', 'web: from web, after the cli logger closed']);
  expect(logFilesIn(dir)).toHaveLength(1);
});

test('silentLogger writes nothing and closes', async () => {
  const log = silentLogger();
  expect(log.logger.isLevelEnabled('fatal')).toBe(false);
  await expect(log.close()).resolves.toBeUndefined();
});
