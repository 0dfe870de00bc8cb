import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { withServices, cancelOnCtrlC } from './context.js';
import { printJson, printTable, Progress, formatCell } from '../output.js';
import { AppraiseError } from '../../core/common/errors.js';
import type { AccuracyMetrics, ModelSummary } from '../../core/models/model-schemas.js';
import type { TrainProgress, TrainResult } from '../../core/training/training-schemas.js';
import { tailSentence } from '../../core/schema/category-vocabulary.js';
import { printCoverage } from './coverage-table.js';

function collectParams(value: string, previous: Record<string, string>): Record<string, string> {
  for (const pair of value.split(/\s+/).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new AppraiseError('INVALID_INPUT', `--params takes name=value pairs, got "${pair}"`);
    previous[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return previous;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function metricsRows(m: AccuracyMetrics): Record<string, unknown>[] {
  return [
    { metric: 'RMSE of log price', value: m.rmseLog.toFixed(4) },
    { metric: 'MAE', value: `$${formatCell(Math.round(m.mae))}` },
    { metric: 'MAPE', value: pct(m.mape) },
    { metric: 'median abs. % error', value: pct(m.mdape) },
    { metric: 'within 5 / 10 / 20 %', value: `${pct(m.within5)} / ${pct(m.within10)} / ${pct(m.within20)}` },
    { metric: 'R² (price)', value: m.r2.toFixed(3) },
    { metric: 'median sales ratio', value: m.medianRatio.toFixed(3) },
    { metric: 'COD', value: m.cod.toFixed(1) },
    { metric: 'PRD', value: m.prd.toFixed(3) },
    { metric: 'sales', value: m.n },
  ];
}

/** One row per expanding-window block (and the pooled figures): the out-of-time table of `appraise train`. */
export function blockRows(cv: AccuracyMetrics & { folds: AccuracyMetrics[] }): Record<string, unknown>[] {
  const row = (label: string, m: AccuracyMetrics) => ({
    block: label,
    sales: m.n,
    'rmse log': m.rmseLog.toFixed(4),
    mdape: pct(m.mdape),
    'median ratio': m.medianRatio.toFixed(3),
    cod: m.cod.toFixed(1),
    prd: m.prd.toFixed(3),
  });
  return [...cv.folds.map((m, i) => row(String(i + 2), m)), row('pooled', cv)];
}

function modelRow(m: ModelSummary): Record<string, unknown> {
  return {
    id: m.id.slice(0, 12),
    name: m.name,
    status: m.status,
    mode: m.mode,
    data: m.datasetName ?? '',
    trees: m.nTrees,
    'rmse log': m.cv ? m.cv.rmseLog.toFixed(4) : '',
    mdape: m.cv ? pct(m.cv.mdape) : '',
    created: m.createdAt.slice(0, 19).replace('T', ' '),
  };
}

export function registerModelCommands(program: Command): void {
  program
    .command('train')
    .argument('<dataset>', 'dataset id, id prefix or name')
    .description('cross-validate and train a model on a dataset; it lands as a challenger in the registry')
    .option('--folds <k>', 'number of cross-validation folds', '5')
    .option('--time-folds', 'time-ordered folds: always predict later sales from earlier ones')
    .option('--folds-file <csv>', 'reproduce given folds: a CSV "row,fold" (row = 0-based data row of the source file)')
    .option('--params <k=v...>', 'learner parameters, e.g. "learningRate=0.05 maxLeaves=31" (repeatable)', collectParams, {})
    .option('--warm-start <model>', 'add trees to an existing model (id or champion) instead of starting afresh')
    .option('--name <name>', 'model name')
    .option('--seed <n>', 'random seed (folds, sampling)', '42')
    .option('--tune <mode>', 'hyper-parameter search: fast, thorough or off (parameters given with --params are not searched)', 'fast')
    .option('--threads <n>', 'worker threads for training (default: all cores)')
    .action(
      async (
        dataset: string,
        opts: {
          folds: string;
          timeFolds?: boolean;
          foldsFile?: string;
          params: Record<string, string>;
          warmStart?: string;
          name?: string;
          seed: string;
          tune: string;
          threads?: string;
        },
        cmd: Command,
      ) => {
        await withServices(cmd, async (s, o) => {
          const tune = opts.tune;
          if (tune !== 'fast' && tune !== 'thorough' && tune !== 'off')
            throw new AppraiseError('INVALID_INPUT', `--tune takes fast, thorough or off, got "${tune}"`);
          const progress = Progress.for(o);
          let phase = '';
          let furthest = 0;
          const onProgress = (p: TrainProgress) => {
            // Folds run in parallel: one bar for all of them, at the furthest round any fold has reached.
            const label = p.phase === 'cross-validation' ? `${p.folds}-fold CV` : p.phase;
            if (label !== phase) {
              progress.stop();
              phase = label;
              furthest = 0;
              if (p.nRounds) progress.start(p.nRounds, label.padEnd(11), ' rounds');
            }
            if (p.round !== undefined) {
              furthest = p.phase === 'cross-validation' ? Math.max(furthest, p.round) : p.round;
              progress.update(
                furthest,
                p.validLoss !== undefined ? `fold ${(p.fold ?? 0) + 1} valid RMSE ${p.validLoss.toFixed(4)}` : `train ${p.trainLoss?.toFixed(4) ?? ''}`,
              );
            }
          };
          try {
            const r = await cancelOnCtrlC((signal) =>
              s.training.train(
                {
                  dataset,
                  folds: intOpt(opts.folds, '--folds'),
                  foldScheme: opts.timeFolds ? 'time' : 'random',
                  foldsFile: opts.foldsFile,
                  params: opts.params,
                  warmStart: opts.warmStart,
                  name: opts.name,
                  seed: intOpt(opts.seed, '--seed'),
                  tune,
                  threads: opts.threads ? intOpt(opts.threads, '--threads') : undefined,
                },
                { onProgress, signal },
              ),
            );
            progress.stop();
            if (o.json) return printJson(r);
            process.stdout.write(
              `\nModel ${r.name} ${r.modelId.slice(0, 12)} trained in ${r.trainSeconds.toFixed(1)} s (${r.nTrees} trees); status: challenger\n`,
            );
            // Out of time first: a model values properties after its last sale, which random folds never test.
            if (r.outOfTime) {
              process.stdout.write(`Out-of-time accuracy (${r.outOfTime.scheme}), each block predicted from the earlier ones:\n`);
              printTable(blockRows(r.outOfTime));
            }
            if (r.market)
              process.stdout.write(
                `Market conditions: prices deflated to ${r.market.reference} by a local price index (${r.market.periods} periods, ${r.market.regions} regional series; holding ${r.market.controls.join(', ')} constant)\n`,
              );
            if (r.tuning) process.stdout.write(tuningSentence(r.tuning));
            process.stdout.write(`Cross-validation (${r.cv.scheme}), pooled out-of-fold:\n`);
            printTable(metricsRows(r.cv));
            if (r.coverage) printCoverage(r.coverage);
            else process.stdout.write(`Intervals: ${r.intervals.map((i) => `${pct(i.level)} nominal → ${pct(i.empiricalCoverage)} covered`).join(', ')}\n`);
            if (r.categoryTails.length > 0) process.stdout.write(`Categorical levels:\n${r.categoryTails.map((t) => `  ${tailSentence(t)}\n`).join('')}`);
            process.stdout.write(`Promote it with: appraise models promote ${r.modelId.slice(0, 12)}\n`);
          } finally {
            progress.stop();
          }
        });
      },
    );

  program
    .command('evaluate')
    .argument('<model>', 'model id, prefix, name or champion')
    .argument('<dataset>', 'dataset with actual sale prices')
    .description('accuracy of a model on a dataset (e.g. newer sales), with appraisal ratio statistics')
    .action(async (model: string, dataset: string, _o, cmd: Command) => {
      await withServices(cmd, async (s, o) => {
        const m = await s.training.evaluate(model, dataset);
        if (o.json) printJson(m);
        else printTable(metricsRows(m));
      });
    });

  const models = program.command('models').description('the local model registry: list, show, promote, roll back, export, import');
  models
    .command('list', { isDefault: true })
    .description('list models with their status and cross-validated accuracy')
    .action(async (_o, cmd: Command) => {
      await withServices(cmd, (s, o) => {
        const list = s.models.list();
        if (o.json) printJson(list);
        else printTable(list.map(modelRow));
      });
    });
  models
    .command('show')
    .argument('<model>', 'model id, prefix, name or champion')
    .description('show a model manifest: lineage, parameters, metrics, interval calibration')
    .action(async (ref: string, _o, cmd: Command) => {
      await withServices(cmd, (s, o) => {
        const m = s.models.manifest(ref);
        if (o.json) return printJson(m);
        const sum = s.models.summary(ref);
        process.stdout.write(
          `${m.name} ${m.modelId}\n  status ${sum.status}, mode ${m.mode}, ${m.nTrees} trees, created ${m.createdAt} by ${m.trainerVersion}\n`,
        );
        process.stdout.write(
          `  trained on ${m.trainingDatasetName ?? '-'} ${m.trainingDatasetId?.slice(0, 12) ?? ''}${m.parentModelId ? `, warm-started from ${m.parentModelId.slice(0, 12)}` : ''}\n`,
        );
        process.stdout.write(`  features (${m.featureTransform.features.length}): ${m.featureTransform.features.map((f) => f.name).join(', ')}\n`);
        if (m.calibration)
          process.stdout.write(
            `  calibrated on ${m.calibration.datasetName} ${m.calibration.datasetId.slice(0, 12)} (${m.calibration.n} sales) at ${m.calibration.at}\n`,
          );
        else if (m.mode === 'imported') process.stdout.write(`  not calibrated: run appraise models calibrate ${m.modelId.slice(0, 12)} DATASET\n`);
        if (m.market)
          process.stdout.write(
            `  market conditions: prices deflated to ${m.market.reference} by a local price index (${m.market.whole.points.length} ${m.market.period}s, ${m.market.regions.length} regional series, last sale ${m.market.lastSaleDate}; nowcast up to ${m.market.maxNowcastPeriods} ${m.market.period}(s))\n`,
          );
        if (m.outOfTime) {
          process.stdout.write(`\nOut of time (${m.outOfTime.scheme}):\n`);
          printTable(blockRows(m.outOfTime));
        }
        if (m.cv) {
          process.stdout.write(`\n${m.calibration ? 'Accuracy' : 'Cross-validation'} (${m.cv.scheme}):\n`);
          printTable(metricsRows(m.cv));
        }
        if (m.intervals.length)
          process.stdout.write(
            `Intervals: ${m.intervals.map((i) => `${pct(i.level)} → ${pct(i.empiricalCoverage)} covered (±${i.quantile.toFixed(3)} log)`).join(', ')}\n`,
          );
        if (m.propertyIntervals && !m.calibration) {
          process.stdout.write(
            `Per-property bands, FSD tiers High ≤ ${pct(m.propertyIntervals.tiers.high)} < Medium ≤ ${pct(m.propertyIntervals.tiers.medium)} < Low:\n`,
          );
          printCoverage({ ...m.propertyIntervals.coverage, rows: m.propertyIntervals.rows });
        }
      });
    });
  for (const [name, desc] of [
    ['promote', 'make a model the champion (the model `value` uses by default)'],
    ['archive', 'archive a challenger'],
  ] as const) {
    models
      .command(name)
      .argument('<model>', 'model id, prefix or name')
      .option('--reason <text>', 'why (promote: kept in the champion history with who and when)')
      .description(desc)
      .action(async (ref: string, opts: { reason?: string }, cmd: Command) => {
        await withServices(cmd, (s, o) => {
          const m = name === 'promote' ? s.models.promote({ ref, reason: opts.reason }) : s.models.archive(ref);
          if (o.json) printJson(m);
          else process.stdout.write(`${m.name} ${m.id.slice(0, 12)} is now ${m.status}\n`);
        });
      });
  }
  models
    .command('rollback')
    .description('undo the latest promotion not yet undone: its previous champion is champion again')
    .option('--reason <text>', 'why (kept in the champion history with who and when)')
    .action(async (opts: { reason?: string }, cmd: Command) => {
      await withServices(cmd, (s, o) => {
        const m = s.models.rollback({ reason: opts.reason });
        if (o.json) printJson(m);
        else process.stdout.write(`Rolled back: ${m.name} ${m.id.slice(0, 12)} is champion again\n`);
      });
    });
  models
    .command('export')
    .argument('<model>', 'model id, prefix, name or champion')
    .argument('<dir>', 'folder to write model.onnx and manifest.json into')
    .description('write a model as ONNX plus its manifest')
    .action(async (ref: string, dir: string, _o, cmd: Command) => {
      await withServices(cmd, (s, o) => {
        const r = s.models.exportTo(ref, dir);
        if (o.json) printJson(r);
        else process.stdout.write(`Wrote ${r.onnx} and ${r.manifest}\n`);
      });
    });
  models
    .command('import')
    .argument('<model>', 'XGBoost JSON model (m.json), ONNX model (m.onnx), or an Appraise export (model.onnx with its manifest)')
    .argument('[manifest]', 'an Appraise manifest.json for the ONNX file (omit for models trained elsewhere: give --config/--dataset)')
    .description('import a model; one trained elsewhere is checked against the import template and stays uncalibrated until `models calibrate`')
    .option('--config <yaml>', 'dataset config the model was trained for (default: the --dataset one)')
    .option('--dataset <dataset>', 'dataset whose categories fix the category codes (as in `models import-template`)')
    .option('--name <name>', 'model name (default: the file name)')
    .option('--output-space <space>', 'single-output ONNX: "transformed" (predicts e.g. log price, the default) or "target" (the price)')
    .action(
      async (file: string, manifest: string | undefined, opts: { config?: string; dataset?: string; name?: string; outputSpace?: string }, cmd: Command) => {
        await withServices(cmd, (s, o) => {
          if (opts.outputSpace !== undefined && opts.outputSpace !== 'transformed' && opts.outputSpace !== 'target')
            throw new AppraiseError('INVALID_INPUT', `--output-space is "transformed" or "target", got "${opts.outputSpace}"`);
          const m = manifest
            ? s.models.importFrom(file, manifest)
            : s.interop.importModel(file, {
                config: opts.config,
                dataset: opts.dataset,
                name: opts.name,
                outputSpace: opts.outputSpace as 'transformed' | 'target' | undefined,
              });
          if (o.json) printJson(m);
          else
            process.stdout.write(
              `Imported ${m.name} ${m.id.slice(0, 12)} as ${m.status} (${m.nTrees > 0 ? `${m.nTrees} trees, with reasons` : 'ONNX only, no reasons'})\n` +
                (manifest ? '' : `It has no intervals or accuracy figures until: appraise models calibrate ${m.id.slice(0, 12)} DATASET\n`),
            );
        });
      },
    );
  models
    .command('import-template')
    .description('write the list of inputs (name, order, encoding, category levels) a model trained elsewhere must match, as JSON')
    .option('--config <yaml>', 'dataset config (default: the --dataset one)')
    .option('--dataset <dataset>', 'dataset whose categories fix the category codes; needed when the config has categorical columns')
    .option('--out <file>', 'write the template here instead of stdout')
    .option('--features-csv <file>', "also write the dataset's sales in this layout (inputs, then the transformed target) for training elsewhere")
    .action(async (opts: { config?: string; dataset?: string; out?: string; featuresCsv?: string }, cmd: Command) => {
      await withServices(cmd, (s, o) => {
        const t = s.interop.template(opts);
        const csv = opts.featuresCsv ? s.interop.writeFeatureCsv(opts, opts.featuresCsv) : null;
        if (opts.out) writeFileSync(opts.out, `${JSON.stringify(t, null, 2)}\n`);
        if (o.json || !opts.out) printJson(opts.out ? { template: opts.out, featuresCsv: csv } : t);
        else
          process.stdout.write(
            `Wrote ${opts.out}: ${t.inputs.length} inputs, the model predicts ${t.target.modelPredicts}${csv ? `; ${csv.rows} sales to ${csv.file}` : ''}\n`,
          );
      });
    });
  models
    .command('calibrate')
    .argument('<model>', 'model id, prefix, name or champion')
    .argument('<dataset>', 'local sales the model did not see')
    .description("measure a model's intervals and accuracy (with the ratio study) on local sales and record them with the model")
    .option('--seed <n>', 'seed of the cross-conformal folds', '42')
    .action(async (model: string, dataset: string, opts: { seed: string }, cmd: Command) => {
      await withServices(cmd, async (s, o) => {
        const r = await s.interop.calibrate(model, dataset, { seed: intOpt(opts.seed, '--seed') });
        if (o.json) return printJson(r);
        process.stdout.write(`Calibrated ${r.modelId.slice(0, 12)} on ${r.calibration.datasetName} (${r.calibration.n} sales):\n`);
        printTable(metricsRows(r.metrics));
        process.stdout.write(`Intervals: ${r.intervals.map((i) => `${pct(i.level)} nominal → ${pct(i.empiricalCoverage)} covered`).join(', ')}\n`);
      });
    });
}

export function intOpt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new AppraiseError('INVALID_INPUT', `${flag} must be a whole number, got "${v}"`);
  return n;
}

/** What the search chose and what it cost, in one paragraph. */
function tuningSentence(t: NonNullable<TrainResult['tuning']>): string {
  const chosen = Object.entries(t.chosen)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const rungs = t.rungs.map((r) => `${r.candidates} on ${r.rows} rows`).join(' → ');
  return (
    `Tuning (${t.mode}): ${t.candidates} candidates, ${rungs}; chose ${chosen}; ` +
    `${(t.innerFolds ?? 1) > 1 ? `inner ${t.innerFolds}-fold CV` : 'inner holdout'} RMSE ${t.innerScore.toFixed(4)} ` +
    `at ${t.bestIteration} trees, refitted on all rows with ${t.refitRounds} trees` +
    `${t.bagged ? ` and averaged with the ${t.bagged - 1} inner-fold models` : ''} (${t.seconds.toFixed(1)} s)\n`
  );
}
