import { test, expect, afterAll } from 'vitest';
import { join } from 'node:path';
import { tempDir } from './helpers/temp-workspace.js';
import { runCli } from './helpers/run-cli.js';

const { dir, cleanup } = tempDir();
afterAll(cleanup);
const ws = join(dir, 'ws');

test('bad --level and --since values exit 1 and say what is accepted', async () => {
  const level = await runCli(['-w', ws, 'logs', '--level', 'loud']);
  expect(level.code).toBe(1);
  expect(level.stderr).toContain('--level must be one of trace, debug, info, warn, error, fatal; got "loud"');
  const since = await runCli(['-w', ws, 'logs', '--since', 'yesterday-ish', '--json']);
  expect(since.code).toBe(1);
  expect(JSON.parse(since.stdout).error.code).toBe('INVALID_INPUT');
  expect(since.stderr).toContain('--since must be an ISO date or time');
  expect(since.stderr).toContain('got "yesterday-ish"');
}, 120_000);

test('each command logs its outcome once; appraise logs shows it for people and as JSON lines', async () => {
  expect((await runCli(['-w', ws, 'init'])).code).toBe(0);
  const failed = await runCli(['-w', ws, 'datasets', 'show', 'no-such-dataset']);
  expect(failed.code).toBe(1);

  const human = await runCli(['-w', ws, 'logs']);
  expect(human.code).toBe(0);
  const lines = human.stdout.trim().split('\n');
  expect(lines).toHaveLength(2); // `logs` itself writes nothing
  expect(lines[0]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} {2}INFO {3}cli\[\d+\] {2}init ok in \d+ ms$/);
  expect(lines[1]).toMatch(/ERROR {2}cli\[\d+\] {2}datasets show failed: .*no-such-dataset.* {2}\[NOT_FOUND\]$/);

  const json = await runCli(['-w', ws, 'logs', '--json', '--level', 'error']);
  const records = json.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(records).toEqual([
    expect.objectContaining({
      level: 'error',
      process: 'cli',
      command: 'datasets show',
      outcome: 'failed',
      err: expect.objectContaining({ code: 'NOT_FOUND' }),
    }),
  ]);

  const none = await runCli(['-w', ws, 'logs', '--since', '2h', '--level', 'fatal']);
  expect(none.stdout).toBe('(no matching log entries)\n');
}, 120_000);
