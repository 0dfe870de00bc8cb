import type { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withServices } from './context.js';
import { printJson, Progress, formatCell, printTable } from '../output.js';
import type { AppServices } from '../../core/services/open-workspace.js';
import type { ModelManifest } from '../../core/models/model-types.js';

/** The repository root, from both cli/commands (sources) and dist/cli/commands (built). */
export function repoRoot(): string {
  for (const rel of ['../../', '../../../']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'config'))) return dir;
  }
  throw new Error('cannot locate the Appraise installation folder');
}

/** A house from the bundled data, as an appraiser would type it (no price, valued today). */
export const DEMO_HOUSE = {
  bedrooms: '3', bathrooms: '2.25', sqft_living: '2570', sqft_lot: '7242', floors: '2', waterfront: '0', view: '0', condition: '3',
  grade: '7', sqft_above: '2170', sqft_basement: '400', yr_built: '1951', yr_renovated: '1991', zipcode: '98125', lat: '47.721',
  long: '-122.319', sqft_living15: '1690', sqft_lot15: '7639',
};

/**
 * Makes a workspace ready to use: the bundled King County sales ingested and the bundled model imported and
 * promoted (when there is no champion yet). Idempotent; used by `appraise demo` and the app's first run.
 */
export async function prepareDemoWorkspace(s: AppServices, onProgress?: (bytes: number, total: number, rows: number) => void) {
  const root = repoRoot();
  const ingest = await s.datasets.ingest({
    file: join(root, 'data', 'kc_house_sales.csv'),
    config: join(root, 'config', 'king-county.yaml'),
    name: 'king-county',
    onProgress: (p) => onProgress?.(p.bytesRead, p.totalBytes, p.rowsAccepted),
  });
  const modelDir = join(root, 'models', 'king-county');
  let imported: string | null = null;
  const hasChampion = s.models.list().some((m) => m.status === 'champion');
  if (!hasChampion && existsSync(join(modelDir, 'model.onnx'))) {
    const manifest = JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8')) as ModelManifest;
    const m = s.models.importFrom(join(modelDir, 'model.onnx'), join(modelDir, 'manifest.json'));
    s.models.promote(m.id);
    imported = `${manifest.name} ${m.id.slice(0, 12)}`;
  }
  return { ingest, imported };
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('a ready demo: ingest the bundled King County sales, install the bundled model, value a house')
    .action(async (_o, cmd: Command) => {
      await withServices(cmd, async (s, o) => {
        const progress = Progress.for(o);
        let started = false;
        const { ingest, imported } = await prepareDemoWorkspace(s, (bytes, total, rows) => {
          if (!started) progress.start(total, 'ingest', ' bytes');
          started = true;
          progress.update(bytes, `${formatCell(rows)} rows`);
        });
        progress.stop();
        const hasChampion = s.models.list().some((m) => m.status === 'champion');
        const valuation = hasChampion ? await s.valuation.value('champion', DEMO_HOUSE) : null;
        if (o.json) {
          const { quality: _q, ...rest } = ingest;
          printJson({ workspace: s.workspace.dir, ingest: rest, importedModel: imported, valuation });
          return;
        }
        process.stdout.write(`Workspace: ${s.workspace.dir}\n`);
        process.stdout.write(`King County sales: ${formatCell(ingest.rowsAccepted)} of ${formatCell(ingest.rowsRead)} rows accepted (dataset ${ingest.datasetId.slice(0, 12)}${ingest.reused ? ', already present' : ''})\n`);
        if (imported) process.stdout.write(`Installed the bundled model ${imported} as champion\n`);
        if (!valuation) {
          process.stdout.write('No model yet: train one with `appraise train king-county` and promote it.\n');
          return;
        }
        process.stdout.write(`\nA 3-bed, 2,570 sqft house in 98125, valued today:\n  estimate $${formatCell(Math.round(valuation.estimate))} (80% range $${formatCell(Math.round(valuation.interval.low))} – $${formatCell(Math.round(valuation.interval.high))})\n`);
        for (const w of valuation.warnings) process.stdout.write(`  note: ${w}\n`);
        process.stdout.write('\nTop reasons:\n');
        printTable(valuation.contributions.slice(0, 5).map((c) => ({ feature: c.feature, value: c.displayValue, effect: `${c.amount >= 0 ? '+' : '−'}$${formatCell(Math.round(Math.abs(c.amount)))}` })));
        process.stdout.write(`\nNext: appraise quality king-county · appraise models list · appraise value champion --input '{…}' · npm run web\n`);
      });
    });
}
