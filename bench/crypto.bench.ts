import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openServices, type AppServices } from '../core/services/open-workspace.js';
import { Workspace } from '../core/workspace/workspace.js';
import { encryptWorkspace } from '../core/workspace/workspace-encryption.js';
import { loadConfigFile } from '../core/config/load-config.js';
import type { Valuation } from '../core/valuation/valuation-schemas.js';
import { recordFigure } from './bench-results.js';
import { randomBytes } from 'node:crypto';
import { ArtifactStore } from '../core/workspace/artifact-store.js';
import { artifactKeyOf } from '../core/common/sealed-file.js';

type Mode = 'plain' | 'encrypted';
interface ModelFigures {
  artifactMs: number;
  loadMs: number;
  valueMs: number;
}

/**
 * Artifacts and valuations: put + get of the bundled model's files through the artifact store (a fresh store per
 * round, so every put writes), the first valuation after opening the workspace (the model's files are read,
 * decrypted and hash-checked, and a session is created), and the mean of later valuations (model cached).
 */
async function modelFigures(root: string, mode: Mode, rounds: number, values: number): Promise<ModelFigures> {
  const files = ['model.onnx', 'manifest.json', 'ensemble.json'].map((f) => readFileSync(join('models', 'king-county', f)));
  const key = mode === 'encrypted' ? artifactKeyOf(randomBytes(32)) : null;
  let t = performance.now();
  for (let r = 0; r < rounds; r++) {
    const store = new ArtifactStore(join(root, `store-${mode}-${r}`), key);
    for (const f of files) store.get(store.put(f));
  }
  const artifactMs = (performance.now() - t) / rounds;
  const dir = join(root, `model-${mode}-${Math.random().toString(36).slice(2)}`);
  let s = openWorkspace(dir, mode === 'encrypted');
  const bundled = join('models', 'king-county');
  const modelId = s.models.importFrom(join(bundled, 'model.onnx'), join(bundled, 'manifest.json')).id;
  await s.close();
  const lines = readFileSync(join('data', 'kc_house_sales.csv'), 'utf8').split(/\r?\n/, values + 1);
  const header = lines[0].split(',');
  const houses = lines.slice(1).map((l) => {
    const cells = l.split(',');
    const h: Record<string, string> = Object.fromEntries(header.map((k, i) => [k, cells[i] ?? '']));
    delete h.price;
    return h;
  });
  s = openServices(dir, { passphrase: mode === 'encrypted' ? PASSPHRASE : undefined });
  try {
    t = performance.now();
    await s.valuation.value(modelId, houses[0], { log: false });
    const loadMs = performance.now() - t;
    t = performance.now();
    for (const h of houses) await s.valuation.value(modelId, h, { log: false });
    return { artifactMs, loadMs, valueMs: (performance.now() - t) / houses.length };
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const description =
  'encryption at rest: KC ingest, valuation-history reads, artifact writes/reads (AES-256-GCM), model load and valuations on an encrypted workspace vs a plain one, measured in the same run';

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
    const rounds = Number(args.find((a) => a.startsWith('--artifact-rounds='))?.slice(18) ?? 20);
    const values = Number(args.find((a) => a.startsWith('--values='))?.slice(9) ?? 200);
    const model: Record<Mode, ModelFigures> = { plain: { artifactMs: 0, loadMs: 0, valueMs: 0 }, encrypted: { artifactMs: 0, loadMs: 0, valueMs: 0 } };
    for (const mode of ['plain', 'encrypted', 'encrypted', 'plain'] as const) {
      const f = await modelFigures(root, mode, rounds, values);
      model[mode].artifactMs += f.artifactMs / 2;
      model[mode].loadMs += f.loadMs / 2;
      model[mode].valueMs += f.valueMs / 2;
    }
    const modelLabel = `bundled KC model (${['model.onnx', 'manifest.json', 'ensemble.json']
      .map((f) => readFileSync(join('models', 'king-county', f)).length)
      .reduce((a, b) => a + b, 0)
      .toLocaleString('en-US')} bytes of artifacts), ${values} valuations`;
    for (const mode of ['plain', 'encrypted'] as const) {
      const m = model[mode];
      console.log(
        `${mode.padEnd(9)} artifacts put+get ${m.artifactMs.toFixed(2)} ms, first valuation (model load) ${m.loadMs.toFixed(1)} ms, valuation ${m.valueMs.toFixed(2)} ms`,
      );
      recordFigure({ case: modelLabel, metric: `${mode} artifacts put+get`, value: Number(m.artifactMs.toFixed(3)), unit: 'ms' });
      recordFigure({ case: modelLabel, metric: `${mode} first valuation (model load)`, value: Number(m.loadMs.toFixed(2)), unit: 'ms' });
      recordFigure({ case: modelLabel, metric: `${mode} valuation`, value: Number(m.valueMs.toFixed(3)), unit: 'ms' });
    }
    const ratios = {
      artifacts: model.encrypted.artifactMs / model.plain.artifactMs,
      load: model.encrypted.loadMs / model.plain.loadMs,
      value: model.encrypted.valueMs / model.plain.valueMs,
    };
    console.log(
      `ratio encrypted / plain: artifacts put+get ${ratios.artifacts.toFixed(2)}×, model load ${ratios.load.toFixed(2)}×, valuation ${ratios.value.toFixed(2)}×`,
    );
    recordFigure({ case: modelLabel, metric: 'ratio encrypted / plain artifacts put+get', value: Number(ratios.artifacts.toFixed(3)), unit: '×' });
    recordFigure({ case: modelLabel, metric: 'ratio encrypted / plain model load', value: Number(ratios.load.toFixed(3)), unit: '×' });
    recordFigure({ case: modelLabel, metric: 'ratio encrypted / plain valuation', value: Number(ratios.value.toFixed(3)), unit: '×' });

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
