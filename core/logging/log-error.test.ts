import { test, expect, afterAll } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppraiseError } from '../common/errors.js';
import { openLogger } from './logger.js';
import { DETAILS_MAX_CHARS, errorRecord, logError, sanitizeForLog } from './log-error.js';

const root = mkdtempSync(join(tmpdir(), 'appraise-log-error-'));
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

// Values that must never reach the file, whichever way they are handed to the logger.
const TOKEN = 'tok-7f3a9c1e-SECRET';
const PASSWORD = 'hunter2-SECRET';
const ROW = { address: '742 Evergreen Terrace', price: 412_000, sqft_living: 1_890 };

test('secrets and input rows never reach the file; errors keep code, message, cause chain and context', async () => {
  const dir = join(root, 'logs');
  const log = await openLogger({ dir, processName: 'web' });
  const logger = log.logger.child({ requestId: 'req-1', token: TOKEN });

  logger.info({ token: TOKEN, user: { password: PASSWORD }, headers: { authorization: `Bearer ${TOKEN}` } }, 'request');
  logger.info({ input: ROW, rows: [ROW, ROW], raw: '742 Evergreen Terrace,412000,1890' }, 'valuation');

  const enoent = Object.assign(new Error('open /data/sales.csv failed'), { code: 'ENOENT' });
  const badFile = new AppraiseError('BAD_FILE', 'sales.csv is not a CSV file', {
    cause: enoent,
    // Deeper than pino's redact paths reach: logError scrubs details itself.
    details: { line: 3, reasons: ['price: not a number'], context: { nested: { deeper: { row: ROW, Passphrase: PASSWORD } } }, sample: 'y'.repeat(50_000) },
  });
  expect(logError(logger, badFile, { jobId: 'job-9', options: { apiKey: TOKEN } })).toBe(true);
  expect(logError(logger, badFile, { again: true })).toBe(false); // once per error, however many layers see it

  const bug = new TypeError("Cannot read properties of undefined (reading 'price')");
  logError(logger, bug, { rows: [ROW] });
  await log.close();

  const text = fileText(dir);
  for (const secret of [TOKEN, PASSWORD, ROW.address, '412000', '412_000']) expect(text).not.toContain(secret);
  expect(text).toContain('[Redacted]');

  const lines = records(dir);
  expect(lines).toHaveLength(4);
  const [, , fileError, bugLine] = lines;
  expect(fileError).toMatchObject({
    level: 'error',
    process: 'web',
    requestId: 'req-1',
    jobId: 'job-9',
    msg: 'sales.csv is not a CSV file',
    err: { code: 'BAD_FILE', message: 'sales.csv is not a CSV file', cause: [{ name: 'Error', code: 'ENOENT', message: 'open /data/sales.csv failed' }] },
  });
  const err = fileError.err as { bug?: boolean; stack?: string; details: { line: number; sample: string } };
  expect(err.bug).toBeUndefined();
  expect(err.stack).toBeUndefined(); // an expected error's stack says nothing its code does not
  expect(err.details.line).toBe(3);
  expect(err.details.sample.length).toBeLessThan(1000);
  expect(JSON.stringify(err.details).length).toBeLessThanOrEqual(DETAILS_MAX_CHARS);

  expect(bugLine).toMatchObject({ level: 'error', err: { code: 'INTERNAL', bug: true, name: 'TypeError' }, rows: '[Redacted]' });
  expect((bugLine.err as { stack: string }).stack).toContain('TypeError');
});

test('details that stay too big after trimming become a marked preview under the cap', () => {
  const details = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`column_${i}`, 'z'.repeat(400)]));
  const r = errorRecord(new AppraiseError('INVALID_INPUT', 'bad form', { details }));
  expect(r.details).toMatchObject({ truncated: true });
  expect(JSON.stringify(r.details).length).toBeLessThanOrEqual(DETAILS_MAX_CHARS + 100);
});

test('sanitizeForLog cuts cycles, long arrays and binary data', () => {
  const a: Record<string, unknown> = { name: 'a', list: Array.from({ length: 100 }, (_, i) => i), bytes: new Uint8Array(4096) };
  a.self = a;
  const s = sanitizeForLog(a) as Record<string, unknown>;
  expect(s.self).toBe('[Circular]');
  expect((s.list as unknown[]).length).toBe(21);
  expect((s.list as unknown[]).at(-1)).toBe('…(+80 more)');
  expect(s.bytes).toBe('[4096 bytes]');
});

test('a cancelled job is logged at info, not as an error', async () => {
  const dir = join(root, 'logs-cancel');
  const log = await openLogger({ dir, processName: 'cli' });
  logError(log.logger, new AppraiseError('CANCELLED', 'ingest cancelled'));
  await log.close();
  expect(records(dir)).toEqual([expect.objectContaining({ level: 'info', err: expect.objectContaining({ code: 'CANCELLED' }) })]);
});
