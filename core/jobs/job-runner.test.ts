import { test, expect, afterAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, kcCsv, kcConfigPath } from '../../test/helpers/temp-workspace.js';
import { JobRunner } from './job-runner.js';
import { openServices } from '../services/open-workspace.js';
import type { AppraiseError } from '../common/errors.js';

const { dir, cleanup } = tempDir();
afterAll(cleanup);
const ws = join(dir, 'ws');

test('ingest and training run in worker threads, report progress, and their results are in the workspace', async () => {
  const runner = new JobRunner(ws);
  try {
    const progress: unknown[] = [];
    const ingest = {
      result: runner.runLocal({ method: 'datasets.ingest', input: { file: kcCsv, config: kcConfigPath, name: 'kc' } }, { onProgress: (p) => progress.push(p) }),
    };
    // The calling thread stays free while the job runs.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const r = await ingest.result;
    clearInterval(timer);
    expect(r.rowsAccepted).toBe(21597);
    expect(ticks).toBeGreaterThan(3);
    const phases = new Set<string>();
    const train = {
      result: runner.runLocal(
        { method: 'train', input: { dataset: 'kc', folds: 2, params: { nRounds: 20, learningRate: 0.3 } } },
        { onProgress: (p) => phases.add(p.phase) },
      ),
    };
    const t = await train.result;
    expect(phases.has('cross-validation')).toBe(true);
    const s = openServices(ws);
    try {
      expect(s.models.list().map((m) => m.id)).toEqual([t.modelId]);
    } finally {
      await s.close();
    }
  } finally {
    await runner.close();
  }
});

test('a cancelled job rejects with CANCELLED and leaves nothing half-written', async () => {
  const big = join(dir, 'big.csv');
  const lines = readFileSync(kcCsv, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l);
  writeFileSync(big, `${lines[0]}\n${Array.from({ length: 8 }, () => lines.slice(1).join('\n')).join('\n')}\n`);
  const runner = new JobRunner(ws);
  try {
    const controller = new AbortController();
    const job = {
      result: runner.runLocal(
        { method: 'datasets.ingest', input: { file: big, config: kcConfigPath, name: 'big' } },
        { onProgress: () => controller.abort(), signal: controller.signal },
      ),
    };
    const e = (await job.result.catch((err: unknown) => err)) as AppraiseError;
    expect(e.code).toBe('CANCELLED');
    const s = openServices(ws);
    try {
      expect(s.datasets.list().map((d) => d.name)).toEqual(['kc']);
    } finally {
      await s.close();
    }
  } finally {
    await runner.close();
  }
});
