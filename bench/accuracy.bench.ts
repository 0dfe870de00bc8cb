/**
 * Accuracy of the learner with its DEFAULT parameters: 5-fold CV on King County (anchors/README.md "Setup", the
 * anchors' folds), pooled out-of-fold RMSE of log price, against scikit-learn HistGradientBoosting and XGBoost run on
 * the very same matrix in this run (and the published anchor figures). Then the same comparison on a synthetic,
 * differently shaped table, so the defaults are not tuned to King County alone.
 *
 *   node dist/bench/run.js accuracy [--threads N] [--no-baselines] [--no-pipeline] [--no-market] [--no-regions] [--no-market] [--params '{"learningRate":0.1}']
 *
 * Then, on every dataset with a sale date (and a generated market), the time-ordered scheme with and without the
 * local price index side by side, per block (issue 15: every block's median ratio in 0.98–1.02, out-of-time RMSE
 * lower with the index).
 */
import { trainGbdt } from '../core/learner/boosting/gbdt-trainer.js';
import { FastTreePredictor } from '../core/learner/model/fast-predictor.js';
import { DEFAULT_GBDT_PARAMS, type GbdtParams } from '../core/learner/boosting/gbdt-params.js';
import { friedmanTable } from '../test/fixtures/synthetic-regression.js';
import { selectRows, type TrainingData } from '../core/learner/data/training-data.js';
import { loadKcAnchorTable } from './kc-anchor-matrix.js';
import { fmt, pythonHas, removeDir, runBaseline, writeBaselineMatrix } from './learner-bench-support.js';
import { pipelineAccuracyOnKc } from './pipeline-accuracy.js';
import { runRegions } from './regions.bench.js';
import { datedDatasets, generatedMarket, timeOrderedComparison } from './market-accuracy.js';
import { recordFigure } from './bench-results.js';
import type { AccuracyMetrics } from '../core/models/model-schemas.js';
import type { TrainResult } from '../core/training/training-schemas.js';

export const description = 'pooled 5-fold out-of-fold RMSE with default params vs scikit-learn HGB and XGBoost (same matrix, same folds), KC + synthetic';

const ANCHOR_HGB = 0.1584;
const ANCHOR_XGB = 0.1602;

/** Pooled out-of-fold predictions of our learner. */
async function crossValidate(d: TrainingData, fold: Int32Array, params: Partial<GbdtParams>, threads: number | undefined) {
  const pred = new Float64Array(d.nRows);
  const folds = [...new Set(fold)].sort();
  const iterations: number[] = [];
  const t0 = performance.now();
  for (const k of folds) {
    const trainRows = [...fold.keys()].filter((i) => fold[i] !== k);
    const testRows = [...fold.keys()].filter((i) => fold[i] === k);
    const { model, bestIteration } = await trainGbdt(selectRows(d, Int32Array.from(trainRows)), params, { threads });
    iterations.push(bestIteration);
    const test = selectRows(d, Int32Array.from(testRows));
    const p = new FastTreePredictor(model).predict(test.X, test.nRows);
    testRows.forEach((r, i) => (pred[r] = p[i]));
  }
  return { pred, iterations, seconds: (performance.now() - t0) / 1000 };
}

const rmse = (p: Float64Array, y: Float64Array) => Math.sqrt(p.reduce((s, v, i) => s + (v - y[i]) ** 2, 0) / y.length);

function baselines(d: TrainingData, fold: Int32Array, enabled: boolean): { hgb: number | null; xgb: number | null } {
  if (!enabled) return { hgb: null, xgb: null };
  const dir = writeBaselineMatrix(d, fold);
  try {
    // Single-threaded baselines: accuracy does not depend on threads, and the bench machine is shared.
    const hgb = pythonHas('sklearn') ? runBaseline<{ rmse: number }>(['cv', dir, 'hgb'], 1).rmse : null;
    const xgb = pythonHas('xgboost') ? runBaseline<{ rmse: number }>(['cv', dir, 'xgb'], 1).rmse : null;
    return { hgb, xgb };
  } finally {
    removeDir(dir);
  }
}

export async function run(args: string[]): Promise<void> {
  const threadsArg = args.indexOf('--threads');
  const threads = threadsArg >= 0 ? Number(args[threadsArg + 1]) : undefined;
  const paramsArg = args.indexOf('--params');
  const params: Partial<GbdtParams> = paramsArg >= 0 ? (JSON.parse(args[paramsArg + 1]) as Partial<GbdtParams>) : {};
  const withBaselines = !args.includes('--no-baselines');
  console.log(`params: defaults ${JSON.stringify(DEFAULT_GBDT_PARAMS)}${paramsArg >= 0 ? ` overridden by ${JSON.stringify(params)}` : ''}`);

  // King County.
  const kc = loadKcAnchorTable();
  const ours = await crossValidate(kc, kc.fold, params, threads);
  const oursRmse = rmse(ours.pred, kc.y);
  const dollars = Math.sqrt(ours.pred.reduce((s, v, i) => s + (Math.exp(v) - Math.exp(kc.y[i])) ** 2, 0) / kc.nRows);
  console.log(`\nKing County (${kc.nRows} rows, ${kc.nFeatures} features, 5 anchor folds)`);
  console.log(
    `  ours (defaults):           RMSE log ${fmt(oursRmse)}  RMSE $ ${Math.round(dollars).toLocaleString('en-US')}  trees per fold ${ours.iterations.join(',')}  ${fmt(ours.seconds, 1)} s`,
  );
  console.log(
    `  anchor sklearn HGB 1000/0.05: ${fmt(ANCHOR_HGB)}   ratio ours/anchor ${fmt(oursRmse / ANCHOR_HGB, 3)}  ${oursRmse <= ANCHOR_HGB ? 'PASS (<= anchor)' : 'MISS (> anchor)'}`,
  );
  console.log(`  anchor XGBoost 1000/d6/0.05:  ${fmt(ANCHOR_XGB)}   ratio ours/anchor ${fmt(oursRmse / ANCHOR_XGB, 3)}`);
  const kcCase = `King County, anchors' feature matrix (${kc.nRows} rows, 5 anchor folds)`;
  recordFigure({
    case: kcCase,
    metric: 'CV RMSE log price, learner defaults',
    value: round(oursRmse, 5),
    unit: 'log',
    target: `≤ ${ANCHOR_HGB} (anchor HGB)`,
    met: oursRmse <= ANCHOR_HGB,
  });
  recordFigure({ case: kcCase, metric: 'CV RMSE $, learner defaults', value: Math.round(dollars), unit: '$' });
  recordFigure({ case: kcCase, metric: 'ratio ours / anchor sklearn HGB (0.1584)', value: round(oursRmse / ANCHOR_HGB, 4), unit: '×' });
  recordFigure({ case: kcCase, metric: 'ratio ours / anchor XGBoost (0.1602)', value: round(oursRmse / ANCHOR_XGB, 4), unit: '×' });
  recordFigure({ case: kcCase, metric: 'CV wall time, 5 folds', value: round(ours.seconds, 1), unit: 's' });
  const kcBase = baselines(kc, kc.fold, withBaselines);
  if (kcBase.hgb !== null) console.log(`  sklearn HGB, this run:        ${fmt(kcBase.hgb)}   ratio ours/sklearn ${fmt(oursRmse / kcBase.hgb, 3)}`);
  if (kcBase.xgb !== null) console.log(`  XGBoost, this run:            ${fmt(kcBase.xgb)}   ratio ours/xgboost ${fmt(oursRmse / kcBase.xgb, 3)}`);
  recordBaselines(kcCase, oursRmse, kcBase);

  // The same folds through the product itself: ingest with config/king-county.yaml (derived features included),
  // then `appraise train --folds-file`, defaults chosen by the tool.
  if (!args.includes('--no-pipeline')) {
    const product = await pipelineAccuracyOnKc(threads);
    if (product) {
      const r = product.cv.rmseLog;
      const cv = product.cv;
      console.log(
        `  appraise ingest + train --folds-file (product pipeline, defaults): RMSE log ${fmt(r)}  MdAPE ${fmt(cv.mdape * 100, 2)} %  within 10 % ${fmt(cv.within10 * 100, 1)} %  R² ${fmt(cv.r2, 3)}  median ratio ${fmt(cv.medianRatio, 3)}  COD ${fmt(cv.cod, 2)}  PRD ${fmt(cv.prd, 3)}  ratio ours/anchor ${fmt(r / ANCHOR_HGB, 3)}  ${r <= ANCHOR_HGB ? 'PASS' : 'MISS'}  ${fmt(product.trainSeconds, 1)} s`,
      );
      const coverage = intervalCoverage(product);
      console.log(
        `  interval coverage (out of fold): ${coverage.map((c) => `${fmt(c.level * 100, 0)} % nominal → ${fmt(c.covered * 100, 1)} % covered (${c.how})`).join(', ')}`,
      );
      const pCase = 'King County, product pipeline (appraise ingest + train --folds-file, tool defaults)';
      recordFigure({ case: pCase, metric: 'CV RMSE log price', value: round(r, 5), unit: 'log', target: `≤ ${ANCHOR_HGB} (anchor HGB)`, met: r <= ANCHOR_HGB });
      recordFigure({ case: pCase, metric: 'ratio ours / anchor sklearn HGB (0.1584)', value: round(r / ANCHOR_HGB, 4), unit: '×' });
      recordAccuracy(pCase, cv);
      for (const c of coverage) {
        recordFigure({ case: pCase, metric: `${fmt(c.level * 100, 0)} % interval coverage (${c.how})`, value: round(c.covered * 100, 1), unit: '%' });
      }
      recordFigure({ case: pCase, metric: 'training wall time incl. final model', value: round(product.trainSeconds, 1), unit: 's' });
    }
  }

  // Synthetic Friedman #1 + categorical + missing: different size, scale, noise and signal shape.
  const syn = friedmanTable(20_000, 1);
  const synFold = Int32Array.from({ length: syn.nRows }, (_, i) => i % 5);
  const s = await crossValidate(syn, synFold, params, threads);
  const sRmse = rmse(s.pred, syn.y);
  console.log(`\nSynthetic Friedman #1 + planted categorical + 10 % missing (${syn.nRows} rows, noise sd 1 = floor)`);
  console.log(`  ours (defaults):           RMSE ${fmt(sRmse)}  vs truth ${fmt(rmse(s.pred, syn.truth))}  trees per fold ${s.iterations.join(',')}`);
  const synBase = baselines(syn, synFold, withBaselines);
  if (synBase.hgb !== null) console.log(`  sklearn HGB, this run:     RMSE ${fmt(synBase.hgb)}   ratio ours/sklearn ${fmt(sRmse / synBase.hgb, 3)}`);
  if (synBase.xgb !== null) console.log(`  XGBoost, this run:         RMSE ${fmt(synBase.xgb)}   ratio ours/xgboost ${fmt(sRmse / synBase.xgb, 3)}`);
  const synCase = `synthetic Friedman #1 + categorical + 10 % missing (${syn.nRows} rows, 5 folds)`;
  recordFigure({ case: synCase, metric: 'CV RMSE, learner defaults', value: round(sRmse, 4), unit: '' });
  recordFigure({ case: synCase, metric: 'CV RMSE against the noise-free truth', value: round(rmse(s.pred, syn.truth), 4), unit: '' });
  recordBaselines(synCase, sRmse, synBase);

  if (!args.includes('--no-market')) await marketConditions(threads);
  // Every region the bench can find, through the product with its defaults, against the baselines (issue 9).
  if (!args.includes('--no-regions')) await runRegions(args.filter((a) => a !== '--no-market'));
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

/** The baselines run on the same matrix and folds in this run, and our ratio to each (none when not installed). */
function recordBaselines(kase: string, ours: number, base: { hgb: number | null; xgb: number | null }): void {
  for (const [name, v] of [
    ['scikit-learn HGB', base.hgb],
    ['XGBoost', base.xgb],
  ] as const) {
    if (v === null) continue;
    recordFigure({ case: kase, metric: `CV RMSE, ${name} on the same matrix (this run)`, value: round(v, 5), unit: '' });
    recordFigure({ case: kase, metric: `ratio ours / ${name} (this run)`, value: round(ours / v, 4), unit: '×' });
  }
}

/** The accuracy figures a user reads (docs/model.md): percentage errors and the IAAO ratio study. */
function recordAccuracy(kase: string, m: AccuracyMetrics): void {
  recordFigure({ case: kase, metric: 'MdAPE', value: round(m.mdape * 100, 2), unit: '%' });
  recordFigure({ case: kase, metric: 'within 10 %', value: round(m.within10 * 100, 1), unit: '%' });
  recordFigure({ case: kase, metric: 'R² (prices)', value: round(m.r2, 4), unit: '' });
  recordFigure({ case: kase, metric: 'median ratio', value: round(m.medianRatio, 4), unit: '' });
  recordFigure({ case: kase, metric: 'COD', value: round(m.cod, 2), unit: '' });
  recordFigure({ case: kase, metric: 'PRD', value: round(m.prd, 4), unit: '' });
}

/**
 * Out-of-fold coverage of each nominal level: the cross-conformal coverage of the global range, and the
 * per-property bands' coverage on the evaluation sales (which neither trained σ̂ nor set the quantiles) when the
 * model has them.
 */
function intervalCoverage(r: TrainResult): { level: number; covered: number; how: string }[] {
  const out = r.intervals.map((i) => ({ level: i.level, covered: i.empiricalCoverage, how: 'global range, cross-conformal' }));
  const overall = r.coverage?.overall;
  for (const c of overall?.coverage ?? []) out.push({ level: c.level, covered: c.coverage, how: `per-property bands, ${overall!.n} evaluation sales` });
  return out;
}

/** Out-of-time accuracy with and without the price index, side by side, on every dataset with a sale date. */
async function marketConditions(threads: number | undefined): Promise<void> {
  const generated = generatedMarket();
  try {
    for (const d of [...datedDatasets(), generated]) {
      const c = await timeOrderedComparison(d.name, d.csv, d.yaml, { threads });
      console.log(`
Out of time: ${d.name}, ${c.withIndex.scheme} (${fmt(c.seconds, 1)} s for both)`);
      console.log('  block   sales   RMSE log: index / none    MdAPE: index / none    median ratio: index / none    COD: index / none    PRD: index / none');
      const line = (label: string, a: AccuracyMetrics, b: AccuracyMetrics) =>
        console.log(
          `  ${label.padEnd(7)} ${String(a.n).padStart(6)}   ${fmt(a.rmseLog)} / ${fmt(b.rmseLog)}        ${fmt(a.mdape * 100, 2)} % / ${fmt(b.mdape * 100, 2)} %     ${fmt(a.medianRatio, 3)} / ${fmt(b.medianRatio, 3)}               ${fmt(a.cod, 2)} / ${fmt(b.cod, 2)}       ${fmt(a.prd, 3)} / ${fmt(b.prd, 3)}`,
        );
      c.withIndex.folds.forEach((f, i) => line(String(i + 2), f, c.without.folds[i]));
      line('pooled', c.withIndex, c.without);
      const ratiosOk = c.withIndex.folds.every((f) => f.medianRatio >= 0.98 && f.medianRatio <= 1.02);
      const lower = c.withIndex.rmseLog < c.without.rmseLog;
      console.log(
        `  every block's median ratio within 0.98–1.02 with the index: ${ratiosOk ? 'PASS' : 'MISS'};  out-of-time RMSE lower than without: ${lower ? 'PASS' : 'MISS'} (${fmt(c.withIndex.rmseLog)} vs ${fmt(c.without.rmseLog)})`,
      );
      recordFigure({
        case: `${d.name} time-ordered`,
        metric: 'out-of-time RMSE log, with index',
        value: round(c.withIndex.rmseLog, 5),
        unit: 'log',
        target: `< ${fmt(c.without.rmseLog)} (without)`,
        met: lower,
      });
      recordFigure({ case: `${d.name} time-ordered`, metric: 'out-of-time RMSE log, without index', value: round(c.without.rmseLog, 5), unit: 'log' });
      recordAccuracy(`${d.name} time-ordered, with index (pooled out of time)`, c.withIndex);
      c.withIndex.folds.forEach((f, i) =>
        recordFigure({
          case: `${d.name} block ${i + 2}`,
          metric: 'median ratio, with index',
          value: round(f.medianRatio, 4),
          unit: 'ratio',
          target: '0.98–1.02',
          met: f.medianRatio >= 0.98 && f.medianRatio <= 1.02,
        }),
      );
    }
  } finally {
    generated.cleanup();
  }
}
