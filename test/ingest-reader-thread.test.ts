import { test, expect, afterAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { AppraiseError } from '../core/common/errors.js';
import { parseConfig } from '../core/config/load-config.js';
import { ingestCsv } from '../core/ingest/ingest-csv.js';
import { Workspace } from '../core/workspace/workspace.js';
import { SqliteDatasetStore } from '../core/datasets/sqlite-dataset-store.js';
import { tempDir, kcCsv, kcConfigPath } from './helpers/temp-workspace.js';

const { dir, cleanup } = tempDir();
afterAll(cleanup);

// Small batches, so that many cross between the threads and the reader has to wait for the writer.
const config = parseConfig(`${readFileSync(kcConfigPath, 'utf8')}\npipeline:\n  ingest: { batchSize: 700, maxRecordBytes: 4096 }\n`);

function mixedFile(): string {
  const lines = readFileSync(kcCsv, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l);
  const rows = lines.slice(1, 5001);
  const odd = rows.map((r, i) => {
    const c = r.split(',');
    if (i % 97 === 1) c[2] = '12O000'; // text in a number
    if (i % 89 === 2) c[5] = ' 2570 '; // spaces: valid, through the general path
    if (i % 83 === 3) c[16] = `"${c[16]}"`; // quoted
    if (i % 79 === 4) return c.slice(0, 7).join(','); // ragged
    if (i % 73 === 5) c[17] = '47.56100000000001';
    if (i % 1009 === 6) c[0] = 'x'.repeat(10_000); // longer than maxRecordBytes
    return c.join(',');
  });
  const p = join(dir, 'mixed.csv');
  writeFileSync(p, `${lines[0]}\r\n${[...odd, ...rows].join('\r\n')}\r\n`);
  return p;
}

function contents(ws: Workspace, datasetId: string) {
  const table = (ws.db.prepare('SELECT table_name FROM datasets WHERE id = ?').get(datasetId) as { table_name: string }).table_name;
  const hash = createHash('sha256');
  for (const r of ws.db.prepare(`SELECT * FROM ${table} ORDER BY _row`).raw().iterate()) hash.update(JSON.stringify(r));
  const quarantine = ws.db.prepare('SELECT line, raw, reasons_json FROM quarantine ORDER BY line').all();
  return { rows: hash.digest('hex'), quarantine };
}

test('reading in a thread of its own gives exactly what reading inline gives', async () => {
  const file = mixedFile();
  const results = [];
  for (const readerThread of ['inline', 'worker'] as const) {
    const ws = Workspace.open(join(dir, `ws-${readerThread}`));
    try {
      const r = await ingestCsv({ db: ws.db, datasets: new SqliteDatasetStore(ws.db) }, { file, config, readerThread });
      results.push({ id: r.datasetId, counts: [r.rowsRead, r.rowsAccepted, r.rowsQuarantined], quality: r.quality, ...contents(ws, r.datasetId) });
    } finally {
      ws.close();
    }
  }
  expect(results[0].counts[2]).toBeGreaterThan(100);
  expect(results[0].quarantine.filter((q) => String((q as { reasons_json: string }).reasons_json).includes('record longer than'))).toHaveLength(5);
  expect(results[0].quality.duplicateRows).toBeGreaterThan(4000);
  expect(results[1]).toEqual(results[0]);
});

test('a file that turns bad half-way in the reader thread leaves nothing behind', async () => {
  const good = readFileSync(kcCsv);
  const file = join(dir, 'bad-tail.csv');
  writeFileSync(file, Buffer.concat([good, Buffer.from([0xc3, 0x28, 0x0a])]));
  const ws = Workspace.open(join(dir, 'ws-bad'));
  try {
    const e = await ingestCsv({ db: ws.db, datasets: new SqliteDatasetStore(ws.db) }, { file, config, readerThread: 'worker' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AppraiseError);
    expect((e as AppraiseError).code).toBe('BAD_FILE');
    expect((ws.db.prepare(`SELECT COUNT(*) n FROM sqlite_master WHERE name LIKE '_staging_%'`).get() as { n: number }).n).toBe(0);
    expect((ws.db.prepare('SELECT COUNT(*) n FROM ingest_runs').get() as { n: number }).n).toBe(0);
  } finally {
    ws.close();
  }
});

test('cancelling stops the reader thread and stores nothing', async () => {
  const ws = Workspace.open(join(dir, 'ws-cancel'));
  try {
    const controller = new AbortController();
    const run = ingestCsv(
      { db: ws.db, datasets: new SqliteDatasetStore(ws.db) },
      { file: mixedFile(), config, readerThread: 'worker', signal: controller.signal, onProgress: () => controller.abort() },
    );
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect((ws.db.prepare('SELECT COUNT(*) n FROM ingest_runs').get() as { n: number }).n).toBe(0);
  } finally {
    ws.close();
  }
});
