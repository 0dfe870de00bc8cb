import { test, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDatasetServices } from '../core/services/open-datasets.js';
import { kcCsv, kcConfigPath, tempDir } from './helpers/temp-workspace.js';

test('iterateRows yields every row in order while the consumer writes to the same connection between rows', async () => {
  // Batch scoring of a workspace dataset logs each chunk's predictions in a transaction while it still reads the
  // dataset; with one open cursor better-sqlite3 refused that ("connection is busy") on datasets over one chunk.
  const { dir, cleanup } = tempDir('appraise-iterate-');
  try {
    const lines = readFileSync(kcCsv, 'utf8').split(/\r?\n/).filter(Boolean);
    const file = join(dir, 'sales.csv');
    writeFileSync(file, `${lines.slice(0, 5001).join('\n')}\n`);
    const s = openDatasetServices(join(dir, 'ws'));
    try {
      const r = await s.datasets.ingest({ file, config: kcConfigPath, name: 'sales' });
      const db = s.workspace.db;
      db.exec('CREATE TABLE side (n INTEGER)');
      const write = db.transaction((n: number) => db.prepare('INSERT INTO side (n) VALUES (?)').run(n));
      const ds = s.datasetStore.get('sales');
      const seen: number[] = [];
      for (const { rowIndex } of s.datasetStore.iterateRows(ds, [{ name: 'price' }])) {
        seen.push(rowIndex);
        if (seen.length % 1000 === 0) write(seen.length);
      }
      expect(seen).toHaveLength(r.rowsAccepted);
      expect(seen.every((v, i) => i === 0 || v > seen[i - 1])).toBe(true);
      expect(db.prepare('SELECT COUNT(*) AS n FROM side').get()).toEqual({ n: Math.floor(r.rowsAccepted / 1000) });
    } finally {
      s.close();
    }
  } finally {
    cleanup();
  }
});
