/**
 * What a bench run measured, kept as data: every bench calls `recordFigure()` for the figures it prints, and the
 * runner saves them with the machine, the date and the load as `bench/results/<bench>-<timestamp>.json`.
 * `docs/benchmarks.md` is generated from those files (scripts/generate-benchmarks-doc.ts), so nothing in the docs
 * comes from a run the repo cannot reproduce.
 */
import os from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BenchFigure {
  /** Which case inside the bench, e.g. "1,000,000 rows" or "KC fold 0". */
  case: string;
  /** What was measured, e.g. "ratio ours / .import (wall)". */
  metric: string;
  value: number;
  unit: string;
  /** The target this figure is held to, in words, e.g. "≥ 0.9×"; null for context figures. */
  target: string | null;
  /** Whether the figure meets the target; null when there is none. */
  met: boolean | null;
}

export interface BenchResultFile {
  bench: string;
  args: string[];
  description: string;
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string };
  /** 1-minute load average at the start and the end: a busy machine makes absolute rates pessimistic. */
  load: { start: number; end: number };
  figures: BenchFigure[];
}

const figures: BenchFigure[] = [];

export function recordFigure(f: Omit<BenchFigure, 'target' | 'met'> & { target?: string | null; met?: boolean | null }): void {
  figures.push({ target: null, met: null, ...f });
}

export function recordedFigures(): readonly BenchFigure[] {
  return figures;
}

export function machineInfo(): BenchResultFile['machine'] {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown CPU',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
  };
}

/** Writes the run's figures; returns the file's path. */
export function saveBenchResults(dir: string, run: Omit<BenchResultFile, 'figures' | 'machine'>): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${run.bench}-${run.startedAt.replace(/[:.]/g, '-')}.json`);
  const body: BenchResultFile = { ...run, machine: machineInfo(), figures: [...figures] };
  writeFileSync(file, JSON.stringify(body, null, 2) + '\n');
  return file;
}
