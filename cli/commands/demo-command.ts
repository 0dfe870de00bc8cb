import type { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { withServices } from './context.js';
import { printJson, Progress, formatCell } from '../output.js';
import { printQuality } from './dataset-commands.js';

/** The repository root, from both cli/commands (sources) and dist/cli/commands (built). */
export function repoRoot(): string {
  for (const rel of ['../../', '../../../']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'config'))) return dir;
  }
  throw new Error('cannot locate the Appraise installation folder');
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the pipeline on the bundled King County sales: ingest, quality report')
    .action(async (_o, cmd: Command) => {
      await withServices(cmd, async (s, o) => {
        const root = repoRoot();
        const progress = Progress.for(o);
        let started = false;
        const r = await s.datasets.ingest({
          file: join(root, 'data', 'kc_house_sales.csv'),
          config: join(root, 'config', 'king-county.yaml'),
          name: 'king-county-demo',
          onProgress: (p) => {
            if (!started) progress.start(p.totalBytes, 'ingest', ' bytes');
            started = true;
            progress.update(p.bytesRead, `${formatCell(p.rowsAccepted)} rows`);
          },
        });
        progress.stop();
        if (o.json) {
          const { quality, ...rest } = r;
          printJson({ workspace: s.workspace.dir, ingest: rest, quality });
          return;
        }
        process.stdout.write(`Workspace: ${s.workspace.dir}\n`);
        process.stdout.write(`Ingested King County sales: ${formatCell(r.rowsAccepted)} of ${formatCell(r.rowsRead)} rows accepted (dataset ${r.datasetId.slice(0, 12)})\n\n`);
        printQuality(r.quality);
      });
    });
}
