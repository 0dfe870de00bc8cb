import { describe, expect, it } from 'vitest';
import { GENERATED_MARKER, newestPerBench, regenerate } from './generate-benchmarks-doc.js';
import type { BenchResultFile } from '../bench/bench-results.js';

const run = (bench: string, startedAt: string, value: number, met: boolean): BenchResultFile => ({
  bench,
  args: [],
  description: 'd',
  startedAt,
  finishedAt: startedAt,
  machine: { cpus: 2, cpuModel: 'Test CPU', memoryGiB: 24, node: 'v20', platform: 'linux x64' },
  load: { start: 0.2, end: 0.4 },
  figures: [{ case: '1,000,000 rows', metric: 'ratio ours / .import (wall)', value, unit: '×', target: '≥ 0.9×', met }],
});

describe('docs/benchmarks.md generation', () => {
  it('keeps the hand-written head, replaces the generated part and shows only the newest run of each bench', () => {
    const doc = `# Benchmarks\n\nhow to run\n\n${GENERATED_MARKER}\n\nstale figures 0.11×\n`;
    const out = regenerate(doc, [run('ingest', '2026-12-01T10:00:00.000Z', 0.81, false), run('ingest', '2026-12-02T10:00:00.000Z', 0.93, true)]);
    expect(out.startsWith('# Benchmarks\n\nhow to run\n\n')).toBe(true);
    expect(out).not.toContain('stale figures');
    expect(out).toContain('| 1,000,000 rows | ratio ours / .import (wall) | 0.93× | ≥ 0.9× | yes |');
    expect(out).not.toContain('0.81×');
    expect(out.split(GENERATED_MARKER)).toHaveLength(2);
  });

  it('prints a raw double with six significant digits and a unitless figure without a trailing unit', () => {
    const r = run('accuracy', '2026-12-02T10:00:00.000Z', 1, true);
    r.figures = [
      { case: 'KC', metric: 'out-of-time RMSE log', value: 0.16685381170614375, unit: 'log', target: null, met: null },
      { case: 'KC', metric: 'R² (prices)', value: 0.9045, unit: '', target: null, met: null },
    ];
    const out = regenerate('# B\n', [r]);
    expect(out).toContain('| KC | out-of-time RMSE log | 0.166854 log |  |  |');
    expect(out).toContain('| KC | R² (prices) | 0.9045 |  |  |');
  });

  it('marks a missed target and a busy machine', () => {
    const busy = { ...run('train', '2026-12-02T10:00:00.000Z', 1.1, false), load: { start: 3.5, end: 2 } };
    const out = regenerate('# B\n', [busy]);
    expect(out).toContain('| **no** |');
    expect(out).toContain('the machine was busy');
    expect(newestPerBench([busy, run('ingest', '2026-12-01T00:00:00.000Z', 1, true)]).map((r) => r.bench)).toEqual(['ingest', 'train']);
  });
});
