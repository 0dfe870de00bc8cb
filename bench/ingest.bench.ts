import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeKcBootstrap } from './kc-bootstrap.js';

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

/** Ingest runs in a child process so its peak RSS is its own, not the bench's. */
function ingestInChild(csv: string, workspace: string): ChildFigures & { cpuSeconds: number } {
  const cpu0 = childrenCpuSeconds();
  const r = spawnSync(process.execPath, [join(here, 'ingest-child.js'), csv, workspace], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`ingest child failed: ${r.stderr}`);
  return { ...(JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ChildFigures), cpuSeconds: childrenCpuSeconds() - cpu0 };
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
  const results: { n: number; ours: ChildFigures; base: { seconds: number; cpuSeconds: number } | null }[] = [];
  for (const n of sizes) {
    const csv = join(outDir, `kc-bootstrap-${n}.csv`);
    if (!existsSync(csv)) console.log(`generating ${csv} …`);
    await writeKcBootstrap(csv, n);
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
      `  appraise ingest (parse + validate + insert + hash + profile): ${ours.seconds.toFixed(2)} s, ${Math.round(oursRate).toLocaleString('en-US')} rows/s, peak RSS ${ours.peakRssMiB.toFixed(0)} MiB, accepted ${ours.accepted.toLocaleString('en-US')}`,
    );
    if (base) {
      const baseRate = n / base.seconds;
      console.log(
        `  sqlite3 .import (no validation):                            ${base.seconds.toFixed(2)} s, ${Math.round(baseRate).toLocaleString('en-US')} rows/s`,
      );
      console.log(`  ratio ours / .import: ${(oursRate / baseRate).toFixed(2)}× by wall time  (target ≥ 0.50×)`);
      console.log(
        `  CPU seconds: ours ${ours.cpuSeconds.toFixed(1)}, .import ${base.cpuSeconds.toFixed(1)} → ratio ${(base.cpuSeconds / ours.cpuSeconds).toFixed(2)}× by CPU time (steadier on a busy machine)`,
      );
    } else console.log('  sqlite3 CLI not installed (apt-get install sqlite3): no baseline in this run');
  }
  if (results.length > 1) {
    const a = results[0];
    const b = results[results.length - 1];
    console.log(
      `\npeak RSS ${a.n.toLocaleString('en-US')} rows: ${a.ours.peakRssMiB.toFixed(0)} MiB; ${b.n.toLocaleString('en-US')} rows: ${b.ours.peakRssMiB.toFixed(0)} MiB; growth ${(b.ours.peakRssMiB - a.ours.peakRssMiB).toFixed(0)} MiB (target: < 300 MiB and no growth)`,
    );
  }
}
