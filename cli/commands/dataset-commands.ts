import type { Command } from 'commander';
import { withServices, cancelOnCtrlC } from './context.js';
import { printJson, printTable, Progress, formatCell } from '../output.js';
import { summarize } from '../../core/services/dataset-service.js';
import type { QualityReport } from '../../core/quality/quality-report.js';
import { tailSentence } from '../../core/schema/category-vocabulary.js';
import { AppraiseError } from '../../core/common/errors.js';
import { JobRunner } from '../../core/jobs/job-runner.js';
import type { IngestProgress } from '../../core/ingest/ingest-schemas.js';
import { resolve } from 'node:path';

export function registerDatasetCommands(program: Command): void {
  program
    .command('ingest')
    .description('read a CSV or CSV.gz file into a new dataset version, quarantining invalid rows with reasons')
    .argument('<file>', 'CSV or CSV.gz file')
    .requiredOption('-c, --config <yaml>', 'dataset configuration (e.g. config/king-county.yaml)')
    .option('-n, --name <name>', 'dataset name (default: the file name)')
    .action(async (file: string, opts: { config: string; name?: string }, cmd: Command) => {
      await withServices(cmd, async (s, o) => {
        const progress = Progress.for(o);
        let started = false;
        // The ingest runs in a worker thread with a capped heap (bounded memory whatever the file size).
        const runner = new JobRunner(s.workspace.dir);
        try {
          const onProgress = (p: IngestProgress) => {
            if (!started) {
              progress.start(p.totalBytes, 'ingest', ' bytes');
              started = true;
            }
            progress.update(p.bytesRead, `${p.rowsAccepted.toLocaleString('en-US')} ok, ${p.rowsQuarantined.toLocaleString('en-US')} quarantined`);
          };
          const input = { file: resolve(file), config: resolve(opts.config), name: opts.name };
          const r = await cancelOnCtrlC((signal) => runner.runLocal({ method: 'datasets.ingest', input }, { onProgress, signal }));
          progress.stop();
          if (o.json) {
            printJson(r);
            return;
          }
          if (o.quiet) return;
          process.stdout.write(
            `${r.reused ? 'Already in the workspace (identical content): ' : 'New dataset '}${r.name} ${r.datasetId.slice(0, 12)}\n` +
              `  rows read ${formatCell(r.rowsRead)}, accepted ${formatCell(r.rowsAccepted)}, quarantined ${formatCell(r.rowsQuarantined)} in ${r.seconds.toFixed(1)} s` +
              ` (${formatCell(Math.round(r.rowsRead / Math.max(r.seconds, 1e-6)))} rows/s)\n`,
          );
          if (r.rowsQuarantined > 0) process.stdout.write(`  see why with: appraise datasets quarantine ${r.datasetId.slice(0, 12)}\n`);
          process.stdout.write(`  quality report: appraise quality ${r.datasetId.slice(0, 12)}\n`);
        } finally {
          progress.stop();
          await runner.close();
        }
      });
    });

  const datasets = program.command('datasets').description('list, show, inspect the quarantine of, or delete dataset versions');
  datasets
    .command('list', { isDefault: true })
    .description('list dataset versions')
    .action(async (_o, cmd: Command) => {
      await withServices(cmd, (s, o) => {
        const list = s.datasets.list();
        if (o.json) printJson(list);
        else
          printTable(
            list.map((d) => ({
              id: d.id.slice(0, 12),
              name: d.name,
              rows: d.rows,
              quarantined: d.quarantined,
              config: d.config,
              created: d.createdAt.slice(0, 19).replace('T', ' '),
            })),
          );
      });
    });
  datasets
    .command('show')
    .argument('<dataset>', 'id, id prefix or name')
    .description('show a dataset version: schema, lineage, counts')
    .action(async (ref: string, _o, cmd: Command) => {
      await withServices(cmd, (s, o) => {
        const d = s.datasets.get(ref);
        const out = { ...summarize(d), configHash: d.configHash, parentId: d.parentId, schema: d.columns };
        if (o.json) printJson(out);
        else {
          process.stdout.write(
            `${d.name} ${d.id}\n  ${formatCell(d.rowCount)} rows, config ${d.configName} (${d.configHash.slice(0, 12)}), created ${d.createdAt}\n  source ${d.sourcePath ?? '-'}\n\n`,
          );
          printTable(d.columns.map((c) => ({ column: c.name, type: c.type, stored: c.sqlType })));
        }
      });
    });
  datasets
    .command('quarantine')
    .argument('<dataset-or-run>', 'dataset id/name, or the ingest run id printed by a failed ingest')
    .option('--limit <n>', 'rows to show', '50')
    .option('--offset <n>', 'rows to skip', '0')
    .description('show quarantined rows with their line numbers and reasons')
    .action(async (ref: string, opts: { limit: string; offset: string }, cmd: Command) => {
      await withServices(cmd, (s, o) => {
        const q = s.datasets.quarantine(ref, positiveInt(opts.limit, '--limit'), positiveInt(opts.offset, '--offset', true));
        if (o.json) printJson(q);
        else {
          process.stdout.write(`${formatCell(q.total)} quarantined row(s)\n`);
          for (const r of q.rows)
            process.stdout.write(`line ${r.line}: ${r.reasons.join('; ')}\n    ${r.raw.length > 160 ? `${r.raw.slice(0, 160)}…` : r.raw}\n`);
        }
      });
    });
  datasets
    .command('delete')
    .argument('<dataset>', 'id, id prefix or name')
    .description('delete a dataset version and its rows')
    .action(async (ref: string, _o, cmd: Command) => {
      await withServices(cmd, (s, o) => {
        const d = s.datasets.delete(ref);
        if (o.json) printJson({ deleted: d });
        else process.stdout.write(`Deleted ${d.name} ${d.id.slice(0, 12)} (${formatCell(d.rows)} rows)\n`);
      });
    });

  program
    .command('quality')
    .argument('<dataset>', 'id, id prefix or name')
    .description('data quality report: missing values, ranges, quantiles, categories, duplicates, quarantine')
    .action(async (ref: string, _o, cmd: Command) => {
      await withServices(cmd, (s, o) => {
        const d = s.datasets.get(ref);
        if (!d.quality) throw new AppraiseError('NOT_FOUND', `dataset ${d.name} has no stored quality report`);
        if (o.json) printJson({ datasetId: d.id, name: d.name, ...d.quality });
        else printQuality(d.quality);
      });
    });
}

function positiveInt(v: string, flag: string, allowZero = false): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1))
    throw new AppraiseError('INVALID_INPUT', `${flag} must be a whole number${allowZero ? '' : ' above 0'}, got "${v}"`);
  return n;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

export function printQuality(q: QualityReport): void {
  process.stdout.write(
    `rows read ${formatCell(q.rowsRead)}, accepted ${formatCell(q.rowsAccepted)}, quarantined ${formatCell(q.rowsQuarantined)}, ` +
      `duplicate rows ${q.duplicateRows === null ? 'n/a' : formatCell(q.duplicateRows)}\n\n`,
  );
  printTable(
    q.columns.map((c) => {
      const qs = new Map((c.quantiles ?? []).map((x) => [x.p, x.value]));
      return {
        column: c.name,
        type: c.type,
        missing: pct(c.missingShare),
        min: c.min,
        p25: qs.get(0.25),
        median: qs.get(0.5),
        p75: qs.get(0.75),
        max: c.max,
        mean: c.mean,
        distinct: `${c.distinct}${c.distinctCapped ? '+' : ''}`,
        'out of range': q.outOfRange[c.name] ?? 0,
        top: c.topValues
          .slice(0, 3)
          .map((t) => `${t.value} (${pct(t.share)})`)
          .join(', '),
      };
    }),
  );
  const tails = q.columns.flatMap((c) => (c.categoryTail ? [c.categoryTail] : []));
  if (tails.length > 0) process.stdout.write(`\nCategorical levels as training will code them:\n${tails.map((t) => `  ${tailSentence(t)}\n`).join('')}`);
  const problems = Object.entries(q.problems);
  if (problems.length > 0) {
    process.stdout.write('\nQuarantine reasons by column:\n');
    for (const [col, kinds] of problems) {
      process.stdout.write(
        `  ${col === '_row' ? '(whole row)' : col}: ${Object.entries(kinds)
          .map(([k, n]) => `${k} ${formatCell(n)}`)
          .join(', ')}\n`,
      );
    }
  }
}
