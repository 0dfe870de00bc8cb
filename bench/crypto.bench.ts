import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openServices, type AppServices } from '../core/services/open-workspace.js';
import { Workspace } from '../core/workspace/workspace.js';
import { encryptWorkspace } from '../core/workspace/workspace-encryption.js';
import { loadConfigFile } from '../core/config/load-config.js';
import type { Valuation } from '../core/valuation/valuation-schemas.js';
import { recordFigure } from './bench-results.js';

export const description =
  'encryption at rest: KC ingest and valuation-history reads on an encrypted workspace (SQLite3MultipleCiphers, ChaCha20) vs a plain one, measured in the same run';

const PASSPHRASE = 'bench passphrase, not secret';

function openWorkspace(dir: string, encrypted: boolean): AppServices {
  if (encrypted) {
    Workspace.open(dir).close(); // an empty plain workspace, then encrypted before any data goes in
    encryptWorkspace(dir, PASSPHRASE);
  }
  return openServices(dir, { passphrase: encrypted ? PASSPHRASE : undefined });
}

function historyEntry(header: string[], line: string, i: number): Valuation {
  const cells = line.split(',');
  const input = Object.fromEntries(header.map((h, j) => [h, cells[j] ?? '']));
  const estimate = 300_000 + (i % 500) * 1000;
  return {
    modelId: 'bench',
    valuationDate: null,
    estimate,
    interval: { level: 0.8, low: estimate * 0.9, high: estimate * 1.1 },
    intervals: [],
    baseValue: estimate,
    contributions: [],
    comparables: [],
    warnings: [],
    input,
  } as Valuation;
}

export async function run(args: string[]): Promise<void> {
  const rows = Number(args.find((a) => a.startsWith('--rows='))?.slice(7) ?? Infinity);
  const saved = Number(args.find((a) => a.startsWith('--history='))?.slice(10) ?? 2000);
  const reads = Number(args.find((a) => a.startsWith('--reads='))?.slice(8) ?? 200);
  const root = mkdtempSync(join(tmpdir(), 'appraise-bench-crypto-'));
  try {
    const lines = readFileSync(join('data', 'kc_house_sales.csv'), 'utf8').split(/\r?\n/).filter(Boolean);
    const body = lines.slice(1, Number.isFinite(rows) ? rows + 1 : undefined);
    const csv = join(root, 'kc.csv');
    writeFileSync(csv, [lines[0], ...body].join('\n'));
    const header = lines[0].split(',');
    const config = loadConfigFile(join('config', 'king-county.yaml'));
    const results: Record<'plain' | 'encrypted', { ingestS: number; readMs: number }> = {
      plain: { ingestS: 0, readMs: 0 },
      encrypted: { ingestS: 0, readMs: 0 },
    };
    // Alternating order (plain, encrypted, encrypted, plain) so a warming cache or a busy neighbour is shared.
    for (const mode of ['plain', 'encrypted', 'encrypted', 'plain'] as const) {
      const dir = join(root, `${mode}-${Math.random().toString(36).slice(2)}`);
      const s = openWorkspace(dir, mode === 'encrypted');
      try {
        const t0 = performance.now();
        await s.datasets.ingest({ file: csv, config, name: 'kc' });
        results[mode].ingestS += (performance.now() - t0) / 2000;
        for (let i = 0; i < saved; i++) s.history.save(`property ${i}`, historyEntry(header, body[i % body.length], i));
        s.workspace.db.pragma('wal_checkpoint(TRUNCATE)');
        const t1 = performance.now();
        for (let i = 0; i < reads; i++) s.history.list(100);
        results[mode].readMs += (performance.now() - t1) / reads / 2;
      } finally {
        await s.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const label = `KC ${body.length.toLocaleString('en-US')} rows, ${saved} saved valuations`;
    for (const mode of ['plain', 'encrypted'] as const) {
      const r = results[mode];
      console.log(
        `${mode.padEnd(9)} ingest ${r.ingestS.toFixed(2)} s (${Math.round(body.length / r.ingestS)} rows/s), history.list(100) ${r.readMs.toFixed(2)} ms`,
      );
      recordFigure({ case: label, metric: `${mode} ingest`, value: Number(r.ingestS.toFixed(3)), unit: 's' });
      recordFigure({ case: label, metric: `${mode} history.list(100)`, value: Number(r.readMs.toFixed(3)), unit: 'ms' });
    }
    const ingestRatio = results.encrypted.ingestS / results.plain.ingestS;
    const readRatio = results.encrypted.readMs / results.plain.readMs;
    console.log(`ratio encrypted / plain: ingest ${ingestRatio.toFixed(2)}×, history reads ${readRatio.toFixed(2)}×`);
    recordFigure({ case: label, metric: 'ratio encrypted / plain ingest (wall)', value: Number(ingestRatio.toFixed(3)), unit: '×' });
    recordFigure({ case: label, metric: 'ratio encrypted / plain history reads', value: Number(readRatio.toFixed(3)), unit: '×' });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
