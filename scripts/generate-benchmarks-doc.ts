/**
 * Regenerates the figures part of docs/benchmarks.md from the saved bench results (bench/results/*.json): the
 * newest run of each bench, with its machine, date and load, every recorded figure and whether it met its target.
 * Everything above the marker line is hand-written (how to run, what each bench compares) and kept as it is.
 *
 *   npx tsx scripts/generate-benchmarks-doc.ts [--results DIR] [--doc FILE]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResultFile } from '../bench/bench-results.js';

export const GENERATED_MARKER = '<!-- Below this line: generated from bench/results/ by scripts/generate-benchmarks-doc.ts; do not edit. -->';

/** The newest result file of each bench and argument list (a bench run on two data sets keeps both), by start time. */
export function newestPerBench(results: BenchResultFile[]): BenchResultFile[] {
  const newest = new Map<string, BenchResultFile>();
  for (const r of results) {
    const key = [r.bench, ...r.args].join(' ');
    const seen = newest.get(key);
    if (!seen || seen.startedAt < r.startedAt) newest.set(key, r);
  }
  return [...newest.values()].sort((a, b) => a.bench.localeCompare(b.bench) || a.startedAt.localeCompare(b.startedAt));
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

function formatValue(value: number, unit: string): string {
  // Six significant digits at most: a bench that recorded a raw double (0.16685381170614375) still reads as a figure.
  const v = Number.isInteger(value) ? value.toLocaleString('en-US') : String(Number(value.toPrecision(6)));
  return unit === '×' ? `${v}×` : unit === '' ? v : `${v} ${unit}`;
}

export function renderFigures(results: BenchResultFile[]): string {
  const lines: string[] = [GENERATED_MARKER, '', '## Figures measured here', ''];
  if (results.length === 0) lines.push('No saved results yet: run a bench (`npm run bench -- NAME`), then this script.', '');
  for (const r of newestPerBench(results)) {
    const m = r.machine;
    lines.push(`### ${r.bench}${r.args.length ? ` (\`${r.args.join(' ')}\`)` : ''}`, '');
    lines.push(
      `${r.startedAt.slice(0, 16).replace('T', ' ')} UTC; ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}; ` +
        `load average ${r.load.start.toFixed(1)} at the start, ${r.load.end.toFixed(1)} at the end` +
        (r.load.start > m.cpus / 2 ? ' (the machine was busy: absolute rates are pessimistic; read the ratios)' : '') +
        '.',
      '',
    );
    lines.push('| case | figure | value | target | met |', '|---|---|---|---|---|');
    for (const f of r.figures) {
      const met = f.met === null ? '' : f.met ? 'yes' : '**no**';
      lines.push(`| ${cell(f.case)} | ${cell(f.metric)} | ${cell(formatValue(f.value, f.unit))} | ${cell(f.target ?? '')} | ${met} |`);
    }
    lines.push('', `Raw: \`bench/results/${r.bench}-${r.startedAt.replace(/[:.]/g, '-')}.json\``, '');
  }
  return lines.join('\n');
}

export function readResults(dir: string): BenchResultFile[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as BenchResultFile);
}

/** The hand-written head of the doc followed by freshly rendered figures. */
export function regenerate(doc: string, results: BenchResultFile[]): string {
  const at = doc.indexOf(GENERATED_MARKER);
  const head = (at >= 0 ? doc.slice(0, at) : doc).trimEnd();
  return `${head}\n\n${renderFigures(results)}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : fallback;
  };
  const docFile = arg('--doc', join(root, 'docs', 'benchmarks.md'));
  const results = readResults(arg('--results', join(root, 'bench', 'results')));
  writeFileSync(docFile, regenerate(readFileSync(docFile, 'utf8'), results));
  console.log(`${docFile}: ${newestPerBench(results).length} benches from ${results.length} saved runs`);
}
