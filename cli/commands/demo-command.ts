import type { Command } from 'commander';
import { withServices } from './context.js';
import { printJson, Progress, formatCell, printTable } from '../output.js';
import { DEMO_HOUSE, prepareDemoWorkspace } from '../../core/app/demo-workspace.js';

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
        process.stdout.write(
          `King County sales: ${formatCell(ingest.rowsAccepted)} of ${formatCell(ingest.rowsRead)} rows accepted (dataset ${ingest.datasetId.slice(0, 12)}${ingest.reused ? ', already present' : ''})\n`,
        );
        if (imported) process.stdout.write(`Installed the bundled model ${imported} as champion\n`);
        if (!valuation) {
          process.stdout.write('No model yet: train one with `appraise train king-county` and promote it.\n');
          return;
        }
        process.stdout.write(
          `\nA 3-bed, 2,570 sqft house in 98125, valued today:\n  estimate $${formatCell(Math.round(valuation.estimate))} (80% range $${formatCell(Math.round(valuation.interval.low))} – $${formatCell(Math.round(valuation.interval.high))})\n`,
        );
        for (const w of valuation.warnings) process.stdout.write(`  note: ${w}\n`);
        process.stdout.write('\nTop reasons:\n');
        printTable(
          valuation.contributions
            .slice(0, 5)
            .map((c) => ({ feature: c.feature, value: c.displayValue, effect: `${c.amount >= 0 ? '+' : '−'}$${formatCell(Math.round(Math.abs(c.amount)))}` })),
        );
        process.stdout.write(`\nNext: appraise quality king-county · appraise models list · appraise value champion --input '{…}' · npm run web\n`);
      });
    });
}
