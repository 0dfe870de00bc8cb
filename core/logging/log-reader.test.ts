import { test, expect, afterAll } from 'vitest';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openLogger } from './logger.js';
import { followLogs, logFiles, readLogs, recentErrors, type LogEntry } from './log-reader.js';

const root = mkdtempSync(join(tmpdir(), 'appraise-log-reader-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => {
  const dir = join(root, `logs-${++n}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

const line = (o: Record<string, unknown>) => `${JSON.stringify({ level: 'info', time: '2026-05-01T10:00:00.000Z', process: 'cli', pid: 1, msg: '', ...o })}\n`;

test('reads rotated and current files oldest first; a torn last line is skipped and counted', async () => {
  const dir = freshDir();
  writeFileSync(join(dir, 'appraise.9.log'), line({ msg: 'a', time: '2026-05-01T10:00:00.000Z' }) + line({ msg: 'b', time: '2026-05-01T10:00:01.000Z' }));
  // File 10 sorts after 9 (numbers, not text); its last line was cut off by a crash mid-write.
  writeFileSync(join(dir, 'appraise.10.log'), `${line({ msg: 'c', time: '2026-05-01T10:00:02.000Z' })}{"level":"info","time":"2026-05-01T10:0`);
  writeFileSync(join(dir, 'notes.txt'), 'not a log file\n');

  expect((await logFiles(dir)).map((f) => f.slice(dir.length + 1))).toEqual(['appraise.9.log', 'appraise.10.log']);
  const r = await readLogs(dir);
  expect(r.entries.map((e) => e.msg)).toEqual(['a', 'b', 'c']);
  expect(r.skipped).toBe(1);
  // `end` stops before the torn bytes, so a follower would still read that line if it were completed.
  expect(r.end).toEqual({ file: join(dir, 'appraise.10.log'), offset: Buffer.byteLength(line({ msg: 'c', time: '2026-05-01T10:00:02.000Z' })) });
});

test('a record glued to a torn one (the next process appended after a crash) is recovered; junk lines are counted', async () => {
  const dir = freshDir();
  writeFileSync(join(dir, 'appraise.1.log'), `{"level":"info","ti${line({ msg: 'after the crash' })}garbage\n[1,2]\n${line({ level: 'loud' })}\n`);
  const r = await readLogs(dir);
  expect(r.entries.map((e) => e.msg)).toEqual(['after the crash']);
  expect(r.skipped).toBe(4); // the torn prefix, "garbage", an array, a record with an unknown level
});

test('filters by minimum level, job id (or prefix) and time; keeps the last N; accepts numeric pino levels', async () => {
  const dir = freshDir();
  writeFileSync(
    join(dir, 'appraise.1.log'),
    [
      line({ msg: 'old info', time: '2026-05-01T09:00:00.000Z' }),
      line({ msg: 'old error', level: 'error', time: '2026-05-01T09:00:01.000Z', jobId: 'aaaa-1111', err: { code: 'BAD_FILE' } }),
      line({ msg: 'job debug', level: 'debug', time: '2026-05-01T10:00:00.000Z', jobId: 'aaaa-1111' }),
      line({ msg: 'job warn', level: 40, time: '2026-05-01T10:00:01.000Z', jobId: 'aaaa-1111' }),
      line({ msg: 'other job', level: 'warn', time: '2026-05-01T10:00:02.000Z', jobId: 'bbbb-2222' }),
      line({ msg: 'fatal', level: 'fatal', time: '2026-05-01T10:00:03.000Z' }),
    ].join(''),
  );
  const msgs = async (o: Parameters<typeof readLogs>[1]) => (await readLogs(dir, o)).entries.map((e) => e.msg);
  expect(await msgs({ level: 'warn' })).toEqual(['old error', 'job warn', 'other job', 'fatal']);
  expect(await msgs({ jobId: 'aaaa' })).toEqual(['old error', 'job debug', 'job warn']);
  expect(await msgs({ jobId: 'aaaa-1111', level: 'info' })).toEqual(['old error', 'job warn']);
  expect(await msgs({ since: new Date('2026-05-01T10:00:00.000Z') })).toEqual(['job debug', 'job warn', 'other job', 'fatal']);
  expect(await msgs({ limit: 2 })).toEqual(['other job', 'fatal']);
  expect(await msgs({ limit: 0 })).toEqual([]);
  const [warn] = (await readLogs(dir, { level: 'warn', limit: 3 })).entries;
  expect(warn).toMatchObject({ level: 'warn', jobId: 'aaaa-1111', time: '2026-05-01T10:00:01.000Z' });
  expect((await readLogs(join(root, 'no-such-folder'))).entries).toEqual([]);
});

test('entries from processes that rotated at different moments come out in time order', async () => {
  const dir = freshDir();
  writeFileSync(join(dir, 'appraise.1.log'), line({ msg: 'second', time: '2026-05-01T10:00:02.000Z' }));
  writeFileSync(
    join(dir, 'appraise.2.log'),
    line({ msg: 'first', time: '2026-05-01T10:00:01.000Z' }) + line({ msg: 'third', time: '2026-05-01T10:00:03.000Z' }),
  );
  expect((await readLogs(dir)).entries.map((e) => e.msg)).toEqual(['first', 'second', 'third']);
});

test('recentErrors: newest first, one short line for people plus the whole record', async () => {
  const dir = freshDir();
  writeFileSync(
    join(dir, 'appraise.1.log'),
    line({
      msg: 'ingest failed: sales.csv is not a CSV file',
      level: 'error',
      time: '2026-05-01T10:00:00.000Z',
      jobId: 'j1',
      err: { code: 'BAD_FILE', cause: [{ name: 'Error', message: 'x' }] },
    }) +
      line({ msg: 'fine', time: '2026-05-01T10:00:01.000Z' }) +
      line({
        msg: `internal error\n${'very long '.repeat(50)}`,
        level: 'fatal',
        time: '2026-05-01T10:00:02.000Z',
        process: 'core-host',
        err: { code: 'INTERNAL', bug: true },
      }),
  );
  const errors = await recentErrors(dir, 5);
  expect(errors.map((e) => e.code)).toEqual(['INTERNAL', 'BAD_FILE']);
  expect(errors[0].message.length).toBeLessThanOrEqual(200);
  expect(errors[0].message).not.toContain('\n');
  expect(errors[0].process).toBe('core-host');
  expect(errors[1]).toMatchObject({ jobId: 'j1', message: 'ingest failed: sales.csv is not a CSV file', details: { err: { cause: [{ message: 'x' }] } } });
  expect(await recentErrors(dir, 1)).toHaveLength(1);
});

async function collect(gen: AsyncGenerator<LogEntry>, until: (got: LogEntry[]) => boolean, controller: AbortController, ms = 10_000): Promise<LogEntry[]> {
  const got: LogEntry[] = [];
  const timer = setTimeout(() => controller.abort(), ms);
  for await (const e of gen) {
    got.push(e);
    if (until(got)) break;
  }
  clearTimeout(timer);
  return got;
}

test('follow picks up new lines and survives pino-roll rotations', async () => {
  const dir = freshDir();
  const log = await openLogger({ dir, processName: 'web', maxFileBytes: 1024, maxFiles: 50 });
  log.logger.info({ i: -1 }, 'before following'); // already read: not repeated
  const { end } = await readLogs(dir);
  const controller = new AbortController();
  const following = collect(followLogs(dir, { signal: controller.signal, from: end, pollMs: 10 }), (got) => got.length === 60, controller);
  for (let i = 0; i < 60; i++) {
    log.logger.info({ i, padding: 'p'.repeat(100) }, 'tick');
    if (i % 5 === 0) await sleep(5);
  }
  const got = await following;
  controller.abort();
  await log.close();
  expect(readdirSync(dir).length).toBeGreaterThanOrEqual(5); // it did rotate, several times
  expect(got.map((e) => e.record.i)).toEqual(Array.from({ length: 60 }, (_, i) => i));
});

test('follow continues from a readLogs position, survives the file being replaced, and stops on abort', async () => {
  const dir = freshDir();
  const file = join(dir, 'appraise.1.log');
  writeFileSync(file, line({ msg: 'old' }));
  const { end } = await readLogs(dir);
  appendFileSync(file, line({ msg: 'written between read and follow' }));
  const controller = new AbortController();
  const gen = followLogs(dir, { signal: controller.signal, from: end, pollMs: 10, level: 'info' });
  const nextMsg = async () => ((await gen.next()).value as LogEntry).msg;
  expect(await nextMsg()).toBe('written between read and follow'); // the follower now holds the file open
  appendFileSync(file, line({ msg: 'before the move' }) + line({ msg: 'too detailed', level: 'debug' }));
  // Rename-style rotation: the old file moves away and a new one takes its name.
  renameSync(file, join(dir, 'moved-away.txt'));
  writeFileSync(file, line({ msg: 'new file 1' }));
  expect(await nextMsg()).toBe('before the move');
  expect(await nextMsg()).toBe('new file 1');
  appendFileSync(file, line({ msg: 'new file 2' }));
  expect(await nextMsg()).toBe('new file 2');
  controller.abort();
  await gen.return(undefined);

  // Abort ends the generator, while it waits for lines, without an exception.
  const c2 = new AbortController();
  const idle = followLogs(dir, { signal: c2.signal, pollMs: 10 });
  const next = idle.next();
  setTimeout(() => c2.abort(), 30);
  await expect(next).resolves.toEqual({ done: true, value: undefined });
});

test('follow waits for a log that does not exist yet', async () => {
  const dir = join(root, 'not-yet');
  const { end } = await readLogs(dir);
  expect(end).toEqual({ file: null, offset: 0 });
  const controller = new AbortController();
  const following = collect(followLogs(dir, { signal: controller.signal, from: end, pollMs: 10 }), (got) => got.length === 1, controller);
  await sleep(40);
  const log = await openLogger({ dir, processName: 'cli' });
  log.logger.warn('first ever line');
  await log.close();
  expect((await following).map((e) => e.msg)).toEqual(['first ever line']);
});
