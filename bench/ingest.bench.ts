import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeKcBootstrap } from './kc-bootstrap.js';
import { recordFigure } from './bench-results.js';

const TARGET_RATIO = 0.9;
const TARGET_RSS_MIB = 300;

export const description =
  'streaming ingest with full validation of a KC-like CSV (1M and 5M rows) vs the sqlite3 CLI .import of the same file, measured in the same run';

const here = fileURLToPath(new URL('.', import.meta.url));
const outDir = join(here, '..', '..', 'bench', 'out');

/**
 * CPU seconds (user + system) used by this process's waited-for children so far, from /proc/self/stat
 * (cutime, cstime). On a busy shared machine CPU time is a steadier comparison than wall time.
 */
export function childrenCpuSeconds(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    // After "pid (comm) ": state is field 3, so cutime (16) and cstime (17) are at offsets 13 and 14.
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return NaN;
  }
}

interface ChildFigures {
  rows: number;
  seconds: number;
  peakRssMiB: number;
  accepted: number;
  quarantined: number;
}

/**
 * Ingest runs in a child process so its peak RSS is its own, not the bench's. Both sides are timed the same way —
 * from process start to exit, as seen by this process — so Node's start-up counts against us as sqlite3's does
 * against it; the child's own inner timing is reported beside it.
 */
function ingestInChild(csv: string, workspace: string): ChildFigures & { cpuSeconds: number; innerSeconds: number } {
  const cpu0 = childrenCpuSeconds();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(here, 'ingest-child.js'), csv, workspace], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`ingest child failed: ${r.stderr}`);
  const inner = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ChildFigures;
  return { ...inner, seconds, innerSeconds: inner.seconds, cpuSeconds: childrenCpuSeconds() - cpu0 };
}

/** Reads the file once so both sides start with it in the page cache (the first reader would pay the disk). */
function warmPageCache(csv: string): void {
  spawnSync('cat', [csv], { stdio: ['ignore', 'ignore', 'ignore'] });
}

function sqliteImport(csv: string, db: string): { seconds: number; cpuSeconds: number } | null {
  const probe = spawnSync('sqlite3', ['-version'], { encoding: 'utf8' });
  if (probe.status !== 0) return null;
  rmSync(db, { force: true });
  const t0 = performance.now();
  const cpu0 = childrenCpuSeconds();
  const r = spawnSync('sqlite3', [db, '-cmd', '.mode csv', `.import ${csv} sales`], { encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`sqlite3 .import failed: ${r.stderr}`);
  return { seconds, cpuSeconds: childrenCpuSeconds() - cpu0 };
}

export async function run(args: string[]): Promise<void> {
  const sizes = (args.find((a) => a.startsWith('--rows='))?.slice(7) ?? '1000000,5000000').split(',').map(Number);
  mkdirSync(outDir, { recursive: true });
  const results: { n: number; ours: ChildFigures & { innerSeconds: number }; base: { seconds: number; cpuSeconds: number } | null }[] = [];
  for (const n of sizes) {
    const csv = join(outDir, `kc-bootstrap-${n}.csv`);
    if (!existsSync(csv)) console.log(`generating ${csv} …`);
    await writeKcBootstrap(csv, n);
    warmPageCache(csv);
    const base = sqliteImport(csv, join(outDir, `import-${n}.db`));
    const ws = join(outDir, `ws-${n}`);
    rmSync(ws, { recursive: true, force: true });
    const ours = ingestInChild(csv, ws);
    rmSync(ws, { recursive: true, force: true });
    rmSync(join(outDir, `import-${n}.db`), { force: true });
    results.push({ n, ours, base });
    const oursRate = n / ours.seconds;
    console.log(`\n${n.toLocaleString('en-US')} rows`);
    console.log(
      `  appraise ingest (parse + validate + insert + hash + profile): ${ours.seconds.toFixed(2)} s process start to exit (${ours.innerSeconds.toFixed(2)} s inside), ${Math.round(oursRate).toLocaleString('en-US')} rows/s, peak RSS ${ours.peakRssMiB.toFixed(0)} MiB, accepted ${ours.accepted.toLocaleString('en-US')}`,
    );
    const label = `${n.toLocaleString('en-US')} rows`;
    recordFigure({ case: label, metric: 'appraise ingest rows/s (process start to exit)', value: Math.round(oursRate), unit: 'rows/s' });
    recordFigure({
      case: label,
      metric: 'peak RSS',
      value: Math.round(ours.peakRssMiB),
      unit: 'MiB',
      target: `< ${TARGET_RSS_MIB} MiB`,
      met: ours.peakRssMiB < TARGET_RSS_MIB,
    });
    if (base) {
      const baseRate = n / base.seconds;
      console.log(
        `  sqlite3 .import (no validation):                            ${base.seconds.toFixed(2)} s, ${Math.round(baseRate).toLocaleString('en-US')} rows/s`,
      );
      const ratio = oursRate / baseRate;
      console.log(`  ratio ours / .import: ${ratio.toFixed(2)}× by wall time  (target ≥ ${TARGET_RATIO.toFixed(2)}×)`);
      recordFigure({ case: label, metric: 'sqlite3 .import rows/s', value: Math.round(baseRate), unit: 'rows/s' });
      recordFigure({
        case: label,
        metric: 'ratio ours / .import (wall)',
        value: Number(ratio.toFixed(3)),
        unit: '×',
        target: `≥ ${TARGET_RATIO}×`,
        met: ratio >= TARGET_RATIO,
      });
      recordFigure({ case: label, metric: 'ratio .import / ours (CPU time)', value: Number((base.cpuSeconds / ours.cpuSeconds).toFixed(3)), unit: '×' });
      console.log(
        `  CPU seconds: ours ${ours.cpuSeconds.toFixed(1)}, .import ${base.cpuSeconds.toFixed(1)} → ratio ${(base.cpuSeconds / ours.cpuSeconds).toFixed(2)}× by CPU time (steadier on a busy machine)`,
      );
    } else console.log('  sqlite3 CLI not installed (apt-get install sqlite3): no baseline in this run');
  }
  if (results.length > 1) {
    const a = results[0];
    const b = results[results.length - 1];
    console.log(
      `\npeak RSS ${a.n.toLocaleString('en-US')} rows: ${a.ours.peakRssMiB.toFixed(0)} MiB; ${b.n.toLocaleString('en-US')} rows: ${b.ours.peakRssMiB.toFixed(0)} MiB; growth ${(b.ours.peakRssMiB - a.ours.peakRssMiB).toFixed(0)} MiB (target: < ${TARGET_RSS_MIB} MiB and no growth)`,
    );
  }
}
