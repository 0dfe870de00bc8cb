/**
 * Benchmark runner: `npm run bench -- NAME [args…]` runs `bench/NAME.bench.ts` (built to dist/bench/).
 * Each bench prints its figures and the ratio against a baseline measured in the same run, plus the machine.
 */
import os from 'node:os';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordedFigures, saveBenchResults } from './bench-results.js';

export interface BenchModule {
  /** One line saying what the bench measures and against which baseline. */
  description: string;
  run(args: string[]): Promise<void>;
}

export function machineLine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `machine: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`;
}

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const here = fileURLToPath(new URL('.', import.meta.url));
  const available = readdirSync(here)
    .filter((f) => f.endsWith('.bench.js'))
    .map((f) => f.replace(/\.bench\.js$/, ''));
  if (!name || !available.includes(name)) {
    console.error(`usage: npm run bench -- <${available.join('|')}> [args]`);
    process.exit(1);
  }
  const mod = (await import(`./${name}.bench.js`)) as BenchModule;
  console.log(`bench ${name}: ${mod.description}`);
  console.log(machineLine());
  const startedAt = new Date().toISOString();
  const loadStart = os.loadavg()[0];
  await mod.run(args);
  // Child-mode invocations (a bench re-running itself for a clean RSS) print JSON for the parent and save nothing.
  if (args.includes('--child') || recordedFigures().length === 0) return;
  const file = saveBenchResults(join(here, '..', '..', 'bench', 'results'), {
    bench: name,
    args,
    description: mod.description,
    startedAt,
    finishedAt: new Date().toISOString(),
    load: { start: loadStart, end: os.loadavg()[0] },
  });
  console.log(`\nresults saved: ${file} (docs/benchmarks.md: npx tsx scripts/generate-benchmarks-doc.ts)`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    console.error(e);
    process.exit(2);
  });
}
