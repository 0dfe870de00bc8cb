import { test, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir, kcCsv, kcConfigPath } from './helpers/temp-workspace.js';
import { spawnCli, runCli } from './helpers/run-cli.js';
import { openServices } from '../core/services/open-workspace.js';

test('kill -9 in the middle of an ingest leaves no half dataset; the next run cleans up and ingests fully', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const lines = readFileSync(kcCsv, 'utf8')
      .split(/\r?\n/)
      .filter((l) => l);
    const body = lines.slice(1).join('\n');
    const big = join(dir, 'big.csv');
    writeFileSync(big, `${lines[0]}\n${Array.from({ length: 6 }, () => body).join('\n')}\n`); // ~130k rows
    const cfg = join(dir, 'small-batches.yaml');
    writeFileSync(cfg, `${readFileSync(kcConfigPath, 'utf8')}\npipeline:\n  ingest: { batchSize: 2000 }\n`);
    const ws = join(dir, 'ws');
    expect((await runCli(['-w', ws, 'init', '--json'])).code).toBe(0);

    const child = spawnCli(['-w', ws, 'ingest', big, '--config', cfg, '--json']);
    const db = new Database(join(ws, 'appraise.db'), { readonly: true });
    let committed = 0;
    for (let i = 0; i < 600 && committed === 0; i++) {
      await sleep(50);
      const row = db.prepare(`SELECT rows_accepted FROM ingest_runs WHERE status = 'running'`).get() as { rows_accepted: number } | undefined;
      committed = row?.rows_accepted ?? 0;
    }
    expect(committed).toBeGreaterThan(0); // batches were committed before the kill
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    const staging = db.prepare(`SELECT COUNT(*) n FROM sqlite_master WHERE name LIKE '_staging_%'`).get() as { n: number };
    expect(staging.n).toBe(1); // the crash left its staging table...
    db.close();

    const s = openServices(ws);
    try {
      expect(s.recovered).toBe(1); // ...which the next opener removes
      expect(s.datasets.list()).toEqual([]);
      const left = s.workspace.db.prepare(`SELECT COUNT(*) n FROM sqlite_master WHERE name LIKE '_staging_%'`).get() as { n: number };
      expect(left.n).toBe(0);
      expect((s.workspace.db.prepare('SELECT COUNT(*) n FROM ingest_runs').get() as { n: number }).n).toBe(0);
    } finally {
      await s.close();
    }
    const again = await runCli(['-w', ws, 'ingest', big, '--config', cfg, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).rowsAccepted).toBe(21597 * 6);
  } finally {
    cleanup();
  }
}, 240_000);
