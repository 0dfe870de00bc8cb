import { test, expect, afterAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, kcCsv, kcConfigPath } from './helpers/temp-workspace.js';
import { runCli } from './helpers/run-cli.js';
import { DEFAULT_GBDT_PARAMS } from '../core/learner/boosting/gbdt-params.js';

const { dir, cleanup } = tempDir();
afterAll(cleanup);
const ws = join(dir, 'ws');
const cli = (...args: string[]) => runCli(['-w', ws, ...args]);

test('train --tune off keeps the given parameters; --tune fast records its choice in the manifest', async () => {
  const small = join(dir, 'small.csv');
  writeFileSync(
    small,
    readFileSync(kcCsv, 'utf8')
      .split(/\r?\n/)
      .filter((l) => l)
      .slice(0, 1501)
      .join('\n'),
  );
  expect((await cli('ingest', small, '--config', kcConfigPath, '--name', 'kc', '-q')).code).toBe(0);

  const bad = await cli('train', 'kc', '--tune', 'hard');
  expect(bad.code).toBe(1);
  expect(bad.stderr + bad.stdout).toContain('--tune takes fast, thorough or off, got "hard"');

  // Off: the learner's values as given, early stopping on its own 10 % holdout, no search recorded — as before.
  const off = JSON.parse((await cli('train', 'kc', '--folds', '3', '--tune', 'off', '--params', 'nRounds=60', '--json')).stdout);
  expect(off.tuning).toBeUndefined();
  expect(off.params).toMatchObject({ nRounds: 60, maxLeaves: DEFAULT_GBDT_PARAMS.maxLeaves, earlyStoppingRounds: DEFAULT_GBDT_PARAMS.earlyStoppingRounds });
  expect(off.nTrees).toBeLessThanOrEqual(60);
  const offManifest = JSON.parse((await cli('models', 'show', off.modelId.slice(0, 12), '--json')).stdout);
  expect(offManifest.modelId).toBe(off.modelId);
  expect(offManifest.tuning).toBeUndefined();

  // Fast: learningRate was given, so it is fixed; the rest is chosen and the final model refitted on all rows.
  const t = await cli('train', 'kc', '--folds', '3', '--tune', 'fast', '--params', 'learningRate=0.2', '--json');
  expect(t.code).toBe(0);
  const fast = JSON.parse(t.stdout);
  expect(fast.tuning.mode).toBe('fast');
  expect(Object.keys(fast.tuning.chosen)).not.toContain('learningRate');
  expect(Object.keys(fast.tuning.chosen)).toContain('maxLeaves');
  for (const [k, v] of Object.entries(fast.tuning.chosen)) expect(fast.params[k]).toBe(v);
  expect(fast.params.learningRate).toBe(0.2);
  expect(fast.params.earlyStoppingRounds).toBe(0);
  // 1,500 sales is a small table: the refit is averaged with the five inner-fold models of the last rung.
  expect(fast.tuning.innerFolds).toBe(5);
  expect(fast.tuning.bagged).toBe(6);
  expect(fast.nTrees).toBeGreaterThan(fast.tuning.refitRounds);
  expect(fast.tuning.refitRounds).toBeGreaterThanOrEqual(fast.tuning.bestIteration);
  const manifest = JSON.parse((await cli('models', 'show', fast.modelId.slice(0, 12), '--json')).stdout);
  expect(manifest.tuning).toEqual(fast.tuning);
  expect(manifest.params).toEqual(fast.params);
  // The text output names the choice.
  const text = await cli('train', 'kc', '--folds', '3', '--params', 'learningRate=0.2');
  expect(text.stdout).toMatch(/Tuning \(fast\): 6 candidates, 6 on \d+ rows → 2 on \d+ rows; chose maxLeaves=\d+/);
}, 400_000);
