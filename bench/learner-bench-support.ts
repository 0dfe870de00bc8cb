/**
 * Shared plumbing for the learner benches: hand a matrix to the Python baselines (XGBoost, scikit-learn) through
 * binary files, run them, and report whether they are available on this machine.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrainingData } from '../core/learner/data/training-data.js';

const PYTHON = '/usr/bin/python3';
// The .py file stays in bench/ (tsc does not copy it to dist/).
const SCRIPT = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../bench/learner-baselines.py' : './learner-baselines.py', import.meta.url));

export function pythonHas(module: string): boolean {
  return spawnSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}

/** Writes the matrix (and fold per row) for learner-baselines.py; the caller removes the directory. */
export function writeBaselineMatrix(d: TrainingData, fold: Int32Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'appraise-learner-bench-'));
  writeFileSync(join(dir, 'X.f32'), new Uint8Array(d.X.buffer, d.X.byteOffset, d.X.byteLength));
  writeFileSync(join(dir, 'y.f64'), new Uint8Array(d.y.buffer, d.y.byteOffset, d.y.byteLength));
  writeFileSync(join(dir, 'fold.i32'), new Uint8Array(fold.buffer, fold.byteOffset, fold.byteLength));
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ nRows: d.nRows, nFeatures: d.nFeatures, featureKinds: d.featureKinds }));
  return dir;
}

/** Runs learner-baselines.py; `threads` caps OpenMP (scikit-learn) where the script does not set it itself. */
export function runBaseline<T>(args: string[], threads?: number): T {
  const env = threads ? { ...process.env, OMP_NUM_THREADS: String(threads) } : process.env;
  return JSON.parse(execFileSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 1 << 24, env })) as T;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export const fmt = (x: number, digits = 4) => x.toFixed(digits);
