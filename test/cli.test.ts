import { test, expect, afterAll } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, kcCsv, kcConfigPath } from './helpers/temp-workspace.js';
import { runCli } from './helpers/run-cli.js';

const { dir, cleanup } = tempDir();
afterAll(cleanup);
const ws = join(dir, 'ws');

test('ingest --json prints the documented fields; rowsRead equals the data rows; re-running returns the same id', async () => {
  const a = await runCli(['ingest', kcCsv, '--config', kcConfigPath, '--json'], { APPRAISE_WORKSPACE: ws });
  expect(a.code).toBe(0);
  const out = JSON.parse(a.stdout);
  expect(out).toMatchObject({ rowsRead: 21597, rowsAccepted: 21597, rowsQuarantined: 0, reused: false });
  expect(out.datasetId).toMatch(/^[0-9a-f]{64}$/);
  expect(out.sha256).toBe(out.datasetId);
  const b = JSON.parse((await runCli(['-w', ws, 'ingest', kcCsv, '--config', kcConfigPath, '--json'])).stdout);
  expect(b.datasetId).toBe(out.datasetId);
  expect(b.reused).toBe(true);
  const list = JSON.parse((await runCli(['-w', ws, 'datasets', 'list', '--json'])).stdout);
  expect(list).toHaveLength(1);
  const q = JSON.parse((await runCli(['-w', ws, 'quality', out.datasetId.slice(0, 8), '--json'])).stdout);
  expect(q.columns.find((c: { name: string }) => c.name === 'waterfront').missing).toBe(2376);
  expect(q.columns.find((c: { name: string }) => c.name === 'sqft_basement').missing).toBe(454);
}, 240_000);

test('user errors exit 1 with a message that says what to fix; --json carries the error code', async () => {
  const missing = await runCli(['-w', ws, 'ingest', join(dir, 'nope.csv'), '--config', kcConfigPath]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('no such file');
  const badYaml = join(dir, 'bad.yaml');
  writeFileSync(badYaml, 'version: 1\nname: x\ndataset:\n  columns:\n    price: { type: numeric, min: abc }\ntarget: { column: price }\n');
  const cfg = await runCli(['-w', ws, 'ingest', kcCsv, '--config', badYaml, '--json']);
  expect(cfg.code).toBe(1);
  expect(JSON.parse(cfg.stdout).error.code).toBe('INVALID_CONFIG');
  expect(cfg.stderr).toContain('line 5: dataset.columns.price.min: expected a number, got "abc"');
  const unknown = await runCli(['-w', ws, 'datasets', 'show', 'no-such-dataset']);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain('appraise datasets list');
  expect((await runCli(['frobnicate'])).code).toBe(1);
}, 240_000);

test('datasets delete removes the version and its rows', async () => {
  const del = await runCli(['-w', ws, 'datasets', 'delete', 'kc_house_sales', '--json']);
  expect(del.code).toBe(0);
  expect(JSON.parse((await runCli(['-w', ws, 'datasets', 'list', '--json'])).stdout)).toEqual([]);
}, 240_000);
