import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { withServices, cancelOnCtrlC } from './context.js';
import { printJson, printTable, Progress, formatCell } from '../output.js';
import { AppraiseError } from '../../core/common/errors.js';
import { gridEditsSchema, type GridEdits } from '../../core/valuation/valuation-schemas.js';

function parseInput(text: string): Record<string, unknown> {
  const raw = text.startsWith('@') ? readInputFile(text.slice(1)) : text;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw new AppraiseError('INVALID_INPUT', `--input is not valid JSON: ${(e as Error).message}. Give the property as {"column": value, …} or @file.json`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new AppraiseError('INVALID_INPUT', '--input must be a JSON object of column name → value');
  return v as Record<string, unknown>;
}

/** `--edits`: the grid changes, checked against the same schema the API uses. */
function parseEdits(text: string): GridEdits {
  const raw = text.startsWith('@') ? readInputFile(text.slice(1)) : text;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw new AppraiseError('INVALID_INPUT', `--edits is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = gridEditsSchema.safeParse(v);
  if (!parsed.success)
    throw new AppraiseError('INVALID_INPUT', `--edits: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(edits)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

function readInputFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new AppraiseError('INVALID_INPUT', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

const money = (x: number) => `$${formatCell(Math.round(x))}`;

export function registerValuationCommands(program: Command): void {
  program
    .command('value')
    .argument('<model>', 'model id, prefix, name, or champion')
    .requiredOption('-i, --input <json>', "the property as JSON with the dataset's own column names and formats, or @file.json")
    .option('--date <yyyy-mm-dd>', 'valuation date (default: the sale-date field of the input, else today)')
    .option('--no-grid', 'leave out the adjustment grid (faster: the comparables are not explained)')
    .option(
      '--edits <json>',
      'changes to the grid as JSON or @file.json: {"excluded": [rowIndex…], "added": ["sale id"…], "overrides": [{"rowIndex", "group", "amount", "reason"}…]}',
    )
    .description('value one property: estimate, interval, reasons (SHAP), comparable sales and their adjustment grid')
    .action(async (model: string, opts: { input: string; date?: string; grid: boolean; edits?: string }, cmd: Command) => {
      await withServices(cmd, async (s, o) => {
        const edits = opts.edits === undefined ? undefined : parseEdits(opts.edits);
        const v = await s.valuation.value(model, parseInput(opts.input), { valuationDate: opts.date, grid: opts.grid, ...(edits ? { edits } : {}) });
        if (o.json) return printJson(v);
        process.stdout.write(
          `Estimate ${money(v.estimate)}  (${Math.round(v.interval.level * 100)}% range ${money(v.interval.low)} – ${money(v.interval.high)})\n`,
        );
        for (const i of v.intervals.filter((x) => x !== v.interval))
          process.stdout.write(`         ${Math.round(i.level * 100)}% range ${money(i.low)} – ${money(i.high)}\n`);
        if (v.fsd !== null && v.fsd !== undefined)
          process.stdout.write(
            `Confidence ${v.confidenceTier ?? '-'} (FSD ${(v.fsd * 100).toFixed(1)}%: the standard deviation of estimate/price for a property like this)\n`,
          );
        process.stdout.write(`Valuation date ${v.valuationDate ?? '-'}, model ${v.modelId.slice(0, 12)}\n`);
        for (const w of v.warnings) process.stdout.write(`  note: ${w}\n`);
        if (v.contributions.length) {
          process.stdout.write(`\nWhy (from an average of ${money(v.baseValue)}):\n`);
          printTable(
            v.contributions
              .slice(0, 8)
              .map((c) => ({ feature: c.feature, value: c.displayValue, effect: `${c.amount >= 0 ? '+' : '−'}${money(Math.abs(c.amount))}` })),
          );
        }
        if (v.comparables.length) {
          process.stdout.write('\nComparable sales:\n');
          printTable(
            v.comparables.map((c) => ({
              row: c.rowIndex,
              price: money(c.price),
              ...('adjustedPrice' in c
                ? {
                    adjusted: money(c.adjustedPrice),
                    'net %': (c.netPct * 100).toFixed(1),
                    'gross %': (c.grossPct * 100).toFixed(1),
                    ...(c.excluded ? { excluded: 'yes' } : {}),
                  }
                : {}),
              date: c.saleDate,
              km: c.distanceKm?.toFixed(2),
              ...c.attributes,
            })),
          );
        }
        if (v.reconciliation)
          process.stdout.write(
            `Adjusted prices of ${v.reconciliation.count} comparables: median ${money(v.reconciliation.median)} (${money(v.reconciliation.low)} – ${money(v.reconciliation.high)})\n`,
          );
      });
    });

  program
    .command('score')
    .argument('<model>', 'model id, prefix, name, or champion')
    .argument('<source>', "a dataset in the workspace, or a CSV/CSV.gz file with the dataset's columns")
    .requiredOption('-o, --out <file>', 'output .csv file, or sqlite:NAME for table scores_NAME in the workspace')
    .description('value many properties; resumable: run the same command again after an interruption')
    .action(async (model: string, source: string, opts: { out: string }, cmd: Command) => {
      await withServices(cmd, async (s, o) => {
        const progress = Progress.for(o);
        let started = false;
        try {
          const r = await cancelOnCtrlC((signal) =>
            s.valuation.score(model, source, opts.out, {
              signal,
              onProgress: (p) => {
                if (!started && Number.isFinite(p.total)) progress.start(p.total, 'score', ' rows');
                started = true;
                progress.update(p.rows);
              },
            }),
          );
          progress.stop();
          if (o.json) return printJson(r);
          for (const note of r.notes ?? []) process.stderr.write(`${note}\n`);
          process.stdout.write(
            `Scored ${formatCell(r.scored)} of ${formatCell(r.rows)} rows in ${r.seconds.toFixed(1)} s → ${r.output}${r.failed ? ` (${formatCell(r.failed)} invalid rows have their reasons in the error column)` : ''}\n`,
          );
        } finally {
          progress.stop();
        }
      });
    });
}
