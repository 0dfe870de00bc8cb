import { test, expect, afterAll } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker } from '../common/worker-entry.js';
import { openLogger } from './logger.js';
import { forwardWorkerLog, isWorkerLogMessage, workerLogger, type WorkerLogMessage } from './worker-log.js';

const root = mkdtempSync(join(tmpdir(), 'appraise-worker-log-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const fileText = (dir: string) =>
  readdirSync(dir)
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('');
const records = (dir: string) =>
  fileText(dir)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test("a real worker thread's lines end up in the parent's file, with the worker's ids and redaction", async () => {
  const dir = join(root, 'logs');
  const log = await openLogger({ dir, processName: 'core-host' });
  // The router sits where a request is handled: forwarding through a child still writes to the root's file.
  const parent = log.logger.child({ requestId: 'req-7' });
  const worker = startWorker(import.meta.url, 'worker-log.fixture', { workerData: { level: parent.level, jobId: 'job-42', dir } });
  const { threadId } = worker; // -1 once the thread has exited
  const forwarded: boolean[] = [];
  let opened: unknown;
  worker.on('message', (m: unknown) => {
    if (isWorkerLogMessage(m)) forwarded.push(forwardWorkerLog(parent, m.line));
    else opened = m;
  });
  await once(worker, 'exit');
  await log.close();

  expect(forwarded).toEqual([true, true]); // info and error; the worker dropped its debug line itself
  const lines = records(dir);
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatchObject({ level: 'info', process: 'worker', pid: process.pid, threadId, jobId: 'job-42', rowsRead: 3, msg: 'hello from the worker' });
  expect(lines[0]).not.toHaveProperty('requestId'); // written unchanged: the parent's bindings are not added
  expect(lines[1]).toMatchObject({ level: 'error', process: 'worker', jobId: 'job-42', err: { code: 'BAD_FILE', details: { row: '[Redacted]' } } });
  const text = fileText(dir);
  expect(text).not.toContain('worker-token-SECRET');
  expect(text).not.toContain('1 Worker Lane');
  // openLogger in a worker thread refuses (a silent logger and a report) instead of opening a second writer.
  expect(opened).toEqual({ type: 'opened', dir: null, reports: [expect.stringContaining('worker thread')] });
  expect(text).not.toContain('must not reach any file');
  expect(readdirSync(dir)).toHaveLength(1);
});

test('the parent drops lines below its level and refuses anything that is not one JSON record', async () => {
  const dir = join(root, 'logs-refuse');
  const log = await openLogger({ dir, processName: 'web', level: 'warn' });
  const posted: WorkerLogMessage[] = [];
  const inWorker = workerLogger((m) => posted.push(m), { level: 'debug' });
  inWorker.info('chatty');
  inWorker.error('bad');
  expect(posted.map((m) => forwardWorkerLog(log.logger, m.line))).toEqual([false, true]);

  expect(forwardWorkerLog(log.logger, 'not json\n')).toBe(false);
  const two = `${posted[1].line}${posted[1].line}`;
  expect(forwardWorkerLog(log.logger, two)).toBe(false); // two records in one message: not what workerLogger posts
  expect(forwardWorkerLog(log.logger, posted[1].line.trimEnd())).toBe(false); // no newline: torn
  await log.close();

  const lines = records(dir);
  expect(lines.map((l) => l.msg)).toEqual([
    'bad',
    'a worker thread sent a log line that is not one JSON record; dropped',
    'a worker thread sent a log line that is not one JSON record; dropped',
    'a worker thread sent a log line that is not one JSON record; dropped',
  ]);
  expect(fileText(dir)).not.toContain('not json');
});

test('isWorkerLogMessage tells log messages from a job protocol message', () => {
  expect(isWorkerLogMessage({ type: 'log', line: '{}\n' })).toBe(true);
  expect(isWorkerLogMessage({ type: 'progress', progress: 1 })).toBe(false);
  expect(isWorkerLogMessage({ type: 'log' })).toBe(false);
  expect(isWorkerLogMessage(null)).toBe(false);
});
