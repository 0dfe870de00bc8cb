import { afterAll, expect, test } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppraiseError } from '../core/common/errors.js';
import { parseConfig } from '../core/config/load-config.js';
import { validateProperty } from '../core/schema/row-validator.js';
import { ingestCsv } from '../core/ingest/ingest-csv.js';
import type { DatasetStore } from '../core/datasets/dataset-store.js';
import { kcConfig, kcConfigPath, kcCsv, repoRoot, tempDir, tempServices } from './helpers/temp-workspace.js';
import { runCli } from './helpers/run-cli.js';

// Issue 14, finding 8: races and misclassified errors. Each of these was an INTERNAL error (exit 2, "a bug")
// or a silent wrong answer.

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function configProblem(yaml: string): AppraiseError {
  try {
    parseConfig(yaml, 'test.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(AppraiseError);
    return e as AppraiseError;
  }
  throw new Error('config was accepted');
}

const minimal = (columns: string) => `version: 1\nname: t\ndataset:\n  columns:\n${columns}\ntarget: { column: price }\n`;
const ALIAS_BOMB = [
  'a: &a [x, x, x, x, x, x, x, x, x, x]',
  ...'bcde'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcd'[i]}`).join(', ')}]`),
].join('\n');

test('a YAML alias bomb and impossible dates are config errors with exit 1, not bugs', async () => {
  expect(configProblem(ALIAS_BOMB).code).toBe('INVALID_CONFIG');
  expect(configProblem(ALIAS_BOMB).message).toMatch(/expands aliases \(\*name\) too many times/);
  const badDate = configProblem(minimal('    price: { type: numeric }\n    d: { type: date, format: "YYYY-MM-DD", min: "2014-13-45" }'));
  expect(badDate.code).toBe('INVALID_CONFIG');
  expect(badDate.message).toContain('dataset.columns.d.min: use an ISO date like 1900-01-01');
  const badMonth = configProblem(
    `${minimal('    price: { type: numeric }\n    d: { type: date, format: "YYYY-MM-DD" }')}features:\n  derived:\n    - { kind: month_index, name: m, date: d, origin: "2014-13" }\n`,
  );
  expect(badMonth.message).toContain('features.derived.0.origin: use "YYYY-MM" with a month from 01 to 12');

  const bomb = join(tmp.dir, 'bomb.yaml');
  writeFileSync(bomb, ALIAS_BOMB);
  const r = await runCli(['-w', join(tmp.dir, 'ws-cli'), 'ingest', kcCsv, '--config', bomb]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/aliases/);
}, 60_000);

test('true is refused for a numeric field, in a config and in a property', () => {
  const e = configProblem(minimal('    price: { type: numeric, min: true }'));
  expect(e.message).toContain('dataset.columns.price.min: expected a number, got true');
  const config = kcConfig().config;
  const checked = validateProperty(config, { sqft_living: true, bedrooms: false }, { skip: [config.target.column] });
  expect(checked.ok).toBe(false);
  const fields = checked.ok ? [] : checked.errors.filter((x) => x.field === 'sqft_living' || x.field === 'bedrooms');
  expect(fields.map((x) => x.message)).toEqual(expect.arrayContaining([expect.stringMatching(/sqft_living: expected a number, got true/)]));
  expect(fields).toHaveLength(2);
});

test('two ingests of one file racing past the existence check: one registers, the other is a duplicate, no staging table stays', async () => {
  const s = tempServices();
  try {
    const file = join(tmp.dir, 'sales.csv');
    writeFileSync(file, readFileSync(kcCsv, 'utf8').split('\n').slice(0, 300).join('\n'));
    const config = kcConfig();
    // The loser of a race checked "is it new?" before the winner committed: a store whose find() never sees it.
    const blind: DatasetStore = new Proxy(s.datasetStore, {
      get: (target, key, receiver) => (key === 'find' ? () => null : (Reflect.get(target, key, receiver) as unknown)),
    });
    const first = await ingestCsv({ db: s.workspace.db, datasets: blind }, { file, config });
    const second = await ingestCsv({ db: s.workspace.db, datasets: blind }, { file, config });
    expect(first.reused).toBe(false);
    expect(second.reused).toBe(true);
    expect(second.datasetId).toBe(first.datasetId);
    expect(s.datasets.list()).toHaveLength(1);
    const staging = s.workspace.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '_staging_%'`).all();
    expect(staging).toEqual([]);
    const runs = s.workspace.db.prepare(`SELECT status FROM ingest_runs`).all() as { status: string }[];
    expect(runs.map((r) => r.status)).toEqual(['completed']);
  } finally {
    await s.cleanup();
  }
});

test('two real ingests of one file at once both succeed, as one dataset', async () => {
  const ws = join(tmp.dir, 'ws-race');
  const file = join(tmp.dir, 'race.csv');
  writeFileSync(file, readFileSync(kcCsv, 'utf8').split('\n').slice(0, 3000).join('\n'));
  const [a, b] = await Promise.all([0, 1].map(() => runCli(['-w', ws, 'ingest', file, '--config', kcConfigPath, '--json'])));
  expect([a.code, b.code], `${a.stderr}\n${b.stderr}`).toEqual([0, 0]);
  const ids = [a, b].map((r) => (JSON.parse(r.stdout) as { datasetId: string }).datasetId);
  expect(ids[0]).toBe(ids[1]);
}, 60_000);

test('re-importing the genuine files of a tampered model replaces the tampered copy', async () => {
  const s = tempServices();
  try {
    const dir = join(repoRoot, 'models', 'king-county');
    const model = s.models.importFrom(join(dir, 'model.onnx'), join(dir, 'manifest.json'));
    const row = s.workspace.db.prepare('SELECT manifest_sha256 FROM models WHERE id = ?').get(model.id) as { manifest_sha256: string };
    const path = s.workspace.artifacts.pathOf(row.manifest_sha256);
    const genuine = readFileSync(path, 'utf8');
    // Someone widened every input range in the stored manifest.
    writeFileSync(path, genuine.replace(/"max":\s*(\d+)/g, '"max": 9$1'));
    expect(() => s.models.load(model.id)).toThrow(/corrupt or was modified/);

    const again = s.models.importFrom(join(dir, 'model.onnx'), join(dir, 'manifest.json'));
    expect(again.id).toBe(model.id);
    expect(readFileSync(path, 'utf8')).toBe(genuine);
    expect(s.models.load(model.id).manifest.modelId).toBe(model.id);
  } finally {
    await s.cleanup();
  }
});
