/**
 * UI benchmark, all measured in the same run on the same workspace:
 *  - web-host cold start: spawn `node dist/electron/launch.js --web` → URL printed → page loaded in Chromium →
 *    first valuation rendered (the estimate on screen);
 *  - valuation round-trip through the web host (HTTP + token + dispatcher + contract validation): p50/p95 over N;
 *  - the same valuation in-process (ValuationService.value, no transport) and bare `appraise value --json`
 *    (a whole CLI process per valuation, what a script would do).
 *
 *   npm run bench -- ui [--n 200] [--cli-runs 5] [--workspace DIR]
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { openServices } from '../core/services/open-workspace.js';

export const description =
  'web-host cold start to first valuation rendered in Chromium; p50/p95 valuation round-trip through the web host vs in-process vs bare `appraise value` process';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env.APPRAISE_CHROMIUM ?? '/usr/bin/chromium';

function flag(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

/** A property that varies per call so no layer can answer from a cache. */
function property(i: number): Record<string, number | string> {
  return {
    bedrooms: 2 + (i % 4),
    bathrooms: 1 + (i % 3),
    sqft_living: 1200 + ((i * 37) % 2400),
    sqft_lot: 5000,
    floors: 1,
    grade: 7,
    condition: 3,
    view: 0,
    yr_built: 1950 + (i % 60),
    yr_renovated: 0,
    zipcode: '98103',
    lat: 47.6,
    long: -122.3,
    sqft_living15: 1800,
    sqft_lot15: 5000,
  };
}

export async function run(args: string[]): Promise<void> {
  const n = Number(flag(args, 'n', '200'));
  const cliRuns = Number(flag(args, 'cli-runs', '5'));
  const given = flag(args, 'workspace', '');
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
  if (!existsSync(join(root, 'renderer', 'dist', 'index.html'))) throw new Error('renderer not built: npm run build');
  const tmp = given ? null : mkdtempSync(join(tmpdir(), 'appraise-ui-bench-'));
  const ws = given || join(tmp!, 'ws');
  try {
    if (!given) {
      process.stdout.write('setup: ingesting King County and training a 200-round champion…\n');
      const s = openServices(ws);
      await s.datasets.ingest({ file: join(root, 'data', 'kc_house_sales.csv'), config: join(root, 'config', 'king-county.yaml'), name: 'kc' });
      const m = await s.training.train({ dataset: 'kc', folds: 2, params: { nRounds: 200, learningRate: 0.1 } });
      s.models.promote(m.modelId);
      await s.close();
    }

    // In-process baseline: the service alone.
    const s = openServices(ws);
    const inProc: number[] = [];
    await s.valuation.value('champion', property(0), { valuationDate: '2015-05-01' });
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await s.valuation.value('champion', property(i), { valuationDate: '2015-05-01' });
      inProc.push(performance.now() - t);
    }
    await s.close();

    // Cold start of the web host to the first valuation on screen.
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const t0 = performance.now();
    const host = spawn(process.execPath, [join(root, 'dist', 'electron', 'launch.js'), '--web'], {
      env: { ...process.env, APPRAISE_WORKSPACE: ws },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      host.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /(http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]+)/.exec(out);
        if (m) resolve(m[1]);
      });
      host.on('exit', (code) => reject(new Error(`web host exited with ${code}`)));
    });
    const tListening = performance.now() - t0;
    let firstValuation = 0;
    let tLoaded = 0;
    const roundTrips: number[] = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(url);
      await page.getByTestId('value-submit').waitFor();
      tLoaded = performance.now() - t0;
      await page.getByTestId('value-submit').click();
      await page.getByTestId('estimate').waitFor();
      firstValuation = performance.now() - t0;

      // Round-trips through the web host (sequential, as a person clicking would).
      const origin = new URL(url).origin;
      const token = new URL(url).hash.replace('#token=', '');
      const call = (i: number) =>
        fetch(`${origin}/api/value`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-appraise-token': token },
          body: JSON.stringify({ input: property(i), valuationDate: '2015-05-01' }),
        }).then((r) => r.json());
      await call(0);
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        const r = (await call(i)) as { result?: unknown };
        roundTrips.push(performance.now() - t);
        if (!r.result) throw new Error(`valuation failed: ${JSON.stringify(r).slice(0, 200)}`);
      }
    } finally {
      host.kill('SIGTERM');
      await browser.close();
    }

    // Bare CLI: one process per valuation.
    const cli: number[] = [];
    for (let i = 0; i < cliRuns; i++) {
      const t = performance.now();
      execFileSync(
        process.execPath,
        [join(root, 'bin', 'appraise.js'), '--workspace', ws, '--json', 'value', 'champion', '--input', JSON.stringify(property(i)), '--date', '2015-05-01'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      cli.push(performance.now() - t);
    }

    const rt = [...roundTrips].sort((a, b) => a - b);
    const ip = [...inProc].sort((a, b) => a - b);
    const c = [...cli].sort((a, b) => a - b);
    console.log(`web host cold start: listening ${fmt(tListening)}, page ready ${fmt(tLoaded)}, first valuation rendered ${fmt(firstValuation)}`);
    console.log(`valuation via web host (n=${n}): p50 ${fmt(percentile(rt, 0.5))}, p95 ${fmt(percentile(rt, 0.95))}, max ${fmt(rt[rt.length - 1])}`);
    console.log(`valuation in-process    (n=${n}): p50 ${fmt(percentile(ip, 0.5))}, p95 ${fmt(percentile(ip, 0.95))}`);
    console.log(`bare \`appraise value\` process (n=${cliRuns}): median ${fmt(percentile(c, 0.5))}, min ${fmt(c[0])}`);
    console.log(
      `ratios: web-host p95 / in-process p95 = ${(percentile(rt, 0.95) / percentile(ip, 0.95)).toFixed(2)}×; ` +
        `bare CLI median / web-host p95 = ${(percentile(c, 0.5) / percentile(rt, 0.95)).toFixed(1)}×; cold start to first valuation / bare CLI = ${(firstValuation / percentile(c, 0.5)).toFixed(2)}×`,
    );
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}
