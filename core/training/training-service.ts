import { createHash } from 'node:crypto';
import { AppraiseError, invalidInput } from '../common/errors.js';
import { APPRAISE_VERSION } from '../common/version.js';
import type { DatasetStore, TrainingMatrix } from '../datasets/dataset-store.js';
import type { ModelStore } from '../models/model-store.js';
import type { ModelManifest, AccuracyMetrics } from '../models/model-schemas.js';
import { categoryTails, fitFeatureTransform, compileFeatureTransform, type CompiledTransform, type FeatureTransform } from '../features/feature-transform.js';
import type { TrainingProgress } from '../learner/boosting/gbdt-trainer.js';
import { resolveGbdtParams, DEFAULT_GBDT_PARAMS, type GbdtParams } from '../learner/boosting/gbdt-params.js';
import { selectRows, type TrainingData } from '../learner/data/training-data.js';
import { FastTreePredictor } from '../learner/model/fast-predictor.js';
import { fitFoldsInParallel, type FoldJob, type ParallelFoldOptions } from './parallel-folds.js';
import { SeededRandom } from '../common/seeded-random.js';
import type { TreeEnsemble } from '../learner/model/tree-model.js';
import { exportTreeEnsembleToOnnx, ONNX_INPUT, ONNX_RAW_OUTPUT, ONNX_VALUE_OUTPUT } from '../onnx/export-tree-ensemble.js';
import type { JobControl } from '../common/job-control.js';
import type { TrainProgress, TrainRequest, TrainResult } from './training-schemas.js';
import { accuracyMetrics } from './accuracy-metrics.js';
import { randomFolds, timeFolds, foldsFromFile, type FoldPlan } from './folds.js';
import { calibrateIntervals } from './conformal-intervals.js';
import { calibratePropertyIntervals, saleTimeFeatures } from './normalised-conformal.js';
import { referenceHistograms } from './reference-histograms.js';
import { deflatedFold, learnerData, marketSetup, type MarketSetup } from './market-training.js';
import { adjustmentAtDay, seriesFor } from '../market/market-adjustment.js';
import type { CvMetrics } from '../models/model-schemas.js';
import { fitLossEstimator } from './loss-estimator.js';
import { tunedFit, type TuneRequest } from './hyperparameter-search.js';
import { auditedAsync, type AuditTrail } from '../audit/audit-trail.js';

/** Fewest rows we will train on: below this, cross-validated metrics mean nothing. */
export const MIN_TRAINING_ROWS = 30;

/**
 * Trains a model on a dataset version: cross-validation (random, time-ordered, or someone else's folds) with
 * pooled out-of-fold metrics and conformal interval calibration, then a final model on all rows, exported to
 * ONNX with its manifest and registered as a challenger. Warm start adds trees to an existing model and keeps
 * its feature definition, so its category codes stay valid.
 */
export interface TrainingServiceApi {
  train(req: TrainRequest, job?: JobControl<TrainProgress>, options?: TrainOptions): Promise<TrainResult>;
  /** Accuracy of a model on a dataset's sales (which it should not have seen). */
  evaluate(model: string, dataset: string): Promise<AccuracyMetrics>;
}

/**
 * Sales that are not in the dataset but should be learned from too: monitoring's retraining adds the sold
 * valuations of the prediction log this way. Their feature vectors were computed with `transform` (the model
 * that valued them), which the new model then uses as well, so the codes of both sets of rows agree.
 */
export interface ExtraSales {
  transform: FeatureTransform;
  /** Row-major feature vectors, `y.length` rows of `transform.features.length`. */
  X: Float32Array;
  /** Target in transformed space (log price for a log target). */
  y: Float64Array;
  /** Sale date as days since 1970, NaN when unknown. */
  saleDay: Float64Array;
  /** How the scheme names them, e.g. "312 sales from the prediction log". */
  label: string;
}

export interface TrainOptions {
  extraSales?: ExtraSales;
  /**
   * Learn only from the dataset's sales on or after this day (days since 1970; monitoring's retraining data
   * window); the extra sales are kept whatever their date. `label` names it in the scheme, e.g. "last 12 months".
   */
  window?: { fromDay: number; label: string };
}

export class TrainingService implements TrainingServiceApi {
  constructor(
    private readonly datasets: DatasetStore,
    private readonly models: ModelStore,
    /** Where each training run is recorded (core/audit); none: not recorded (tests of the learner). */
    private readonly audit?: AuditTrail,
  ) {}

  train(req: TrainRequest, job: JobControl<TrainProgress> = {}, options: TrainOptions = {}): Promise<TrainResult> {
    return auditedAsync(
      this.audit,
      'model.train',
      { dataset: req.dataset },
      () => this.trainModel(req, job, options),
      (r) => ({ model: r.modelId }),
    );
  }

  private async trainModel(req: TrainRequest, job: JobControl<TrainProgress>, options: TrainOptions): Promise<TrainResult> {
    const started = performance.now();
    const report = (p: TrainProgress) => job.onProgress?.(p);
    report({ phase: 'loading' });
    const params = parseParams(req.params ?? {}, req.seed);
    // Parameters the user names are theirs: the search leaves them alone.
    const tune: TuneRequest = { mode: req.tune ?? 'fast', fixed: Object.keys(req.params ?? {}) };
    const ds = this.datasets.get(req.dataset);
    const parent = req.warmStart ? this.models.load(req.warmStart) : null;
    if (parent && !parent.ensemble)
      throw invalidInput(`model ${parent.summary.id.slice(0, 12)} was imported as ONNX only; warm start needs an Appraise-trained model`);
    const extra = options.extraSales;
    if (extra && (parent || req.foldsFile)) throw invalidInput('extra sales cannot be combined with a warm start or a folds file');
    const transform: FeatureTransform = parent ? parent.manifest.featureTransform : (extra?.transform ?? fitDatasetTransform(this.datasets, ds));
    if (parent || extra)
      checkCompatible(
        transform,
        ds.columns.map((c) => c.name),
        ds.config.target.column,
      );
    const compiled = compileFeatureTransform(transform);
    const m = withExtraSales(inWindow(this.datasets.readMatrix(ds, transform, compiled), options.window), extra);
    if (options.window && m.nRows < MIN_TRAINING_ROWS)
      throw invalidInput(
        `the data window (${options.window.label}) leaves ${m.nRows} sale(s) of ${ds.name}${extra ? ` and ${extra.label}` : ''}; training needs at least ${MIN_TRAINING_ROWS} (widen monitoring.retraining.windowMonths)`,
      );
    if (m.nRows < MIN_TRAINING_ROWS) throw invalidInput(`dataset ${ds.name} has ${m.nRows} row(s); training needs at least ${MIN_TRAINING_ROWS}`);
    if (m.y.every((v) => v === m.y[0])) throw invalidInput(`every sale in ${ds.name} has the same ${transform.target.column}; there is nothing to learn`);
    const data = trainingDataOf(m, compiled);
    // Small tables get inner cross-validation and averaged models; the table's size decides it for every fold alike.
    tune.tableRows = m.nRows;
    // The local price index (core/market): the trees learn prices deflated to its reference period.
    const market = marketSetup(this.datasets, ds, transform, compiled, m, parent ? parent.manifest : null);
    // With the index the trees learn constant-date prices and never see the sale date's position in time (see
    // learnerData). A warm start keeps the parent's inputs as they were: its trees may split on them.
    const learn = market && !parent ? learnerData(data, saleTimeFeatures(transform)) : data;

    const plan: FoldPlan = req.foldsFile
      ? foldsFromFile(req.foldsFile, m.rowIndex)
      : req.foldScheme === 'time'
        ? timeFolds(m.saleDay, req.folds ?? 5)
        : randomFolds(m.nRows, req.folds ?? 5, params.seed);
    const init = parent?.ensemble ?? undefined;
    // Random folds and the expanding-window folds report the same way: the user sees one cross-validation phase.
    const cvProgress = (fold: number, folds: number, p: TrainingProgress) =>
      report({
        phase: 'cross-validation',
        fold,
        folds,
        round: p.round,
        nRounds: p.nRounds,
        trainLoss: p.trainLoss,
        validLoss: p.validLoss ?? undefined,
      });
    const foldMetrics: AccuracyMetrics[] = [];
    const { oof, jobs, predictions } = await outOfFoldPredictions(learn, plan, params, {
      concurrency: req.threads,
      initModel: init,
      signal: job.signal,
      market: market ? { setup: market, compiled } : undefined,
      onProgress: cvProgress,
      tune,
    });
    for (const j of jobs) {
      const pred = predictions.get(j.fold)!;
      foldMetrics.push(
        metricsFor(
          Float64Array.from(j.testRows, (r) => m.y[r]),
          pred,
          compiled.inverseTarget,
        ),
      );
    }
    const scored = Int32Array.from(oof.keys()).filter((i) => !Number.isNaN(oof[i]));
    if (scored.length === 0) throw invalidInput('no fold had both test and training rows; use more data or fewer folds');
    const pooled = metricsFor(
      Float64Array.from(scored, (i) => m.y[i]),
      Float64Array.from(scored, (i) => oof[i]),
      compiled.inverseTarget,
    );
    const intervals = calibrateIntervals(
      Float64Array.from(scored, (i) => m.y[i] - oof[i]),
      Int32Array.from(scored, (i) => plan.fold[i]),
    );
    // Label-free monitoring: how this model's held-out error depends on the features (see loss-estimator.ts).
    const lossEstimator = await fitLossEstimator(data, scored, oof, compiled.inverseTarget, { seed: params.seed, threads: req.threads, signal: job.signal });
    // Per-property bands, FSD and tiers, with coverage on out-of-fold sales that set neither σ̂ nor q.
    const propertyIntervals = await calibratePropertyIntervals(data, scored, oof, compiled.inverseTarget, {
      seed: params.seed,
      timeFeatures: saleTimeFeatures(transform),
      threads: req.threads,
      signal: job.signal,
    });

    // Out-of-time accuracy, the headline for a model used after its last sale: expanding-window folds, beside
    // the random folds (the same figures when the folds already are time-ordered).
    const outOfTime: CvMetrics | undefined = plan.scheme.startsWith('time-ordered')
      ? { ...pooled, folds: foldMetrics, scheme: plan.scheme }
      : !parent && !req.foldsFile && m.saleDay.every((d) => !Number.isNaN(d))
        ? await outOfTimeMetrics(learn, m.saleDay, req.folds ?? 5, params, compiled, market, {
            concurrency: req.threads,
            signal: job.signal,
            onProgress: cvProgress,
            tune,
          })
        : undefined;

    const usable = Int32Array.from(plan.fold.keys()).filter((i) => plan.fold[i] !== -2);
    const finalIndex = market ? deflatedFold(market, data, compiled, usable, new Int32Array(0)) : null;
    const finalBase = finalIndex ? { ...learn, y: finalIndex.y } : learn;
    const finalData = usable.length === m.nRows ? finalBase : selectRows(finalBase, usable);
    // The inputs as valuations will give them (sale-date features included), for ranges and drift references.
    const shown = usable.length === m.nRows ? data : selectRows(data, usable);
    // The final model is made as each fold's was: tuned on inner holdouts of all its rows, then refitted on all of them.
    const tuned = await tunedFit(finalData, null, params, tune, {
      threads: req.threads,
      signal: job.signal,
      initModel: init,
      onProgress: (p) => report({ phase: 'final-model', round: p.round, nRounds: p.nRounds, trainLoss: p.trainLoss, validLoss: p.validLoss ?? undefined }),
      onTuning: (t) =>
        report({
          phase: 'tuning',
          fold: t.candidate,
          folds: t.candidates,
          round: t.progress.round,
          nRounds: t.progress.nRounds,
          trainLoss: t.progress.trainLoss,
          validLoss: t.progress.validLoss ?? undefined,
        }),
    });
    const final = tuned.fit;
    const finalParams = tuned.params;
    const tuning = tuned.summary ? { ...tuned.summary, refitRounds: finalParams.nRounds } : undefined;
    report({ phase: 'export' });
    const model: TreeEnsemble = final.model;
    const onnx = exportTreeEnsembleToOnnx(model, { targetTransform: transform.target.transform, producerVersion: APPRAISE_VERSION });
    const modelId = createHash('sha256').update(onnx).digest('hex');
    const name = req.name ?? `${ds.name}-${parent ? 'warm' : 'gbdt'}-${new Date().toISOString().slice(0, 10)}-${modelId.slice(0, 6)}`;
    // A warm start's folds are scored with the parent's trees included: if the parent learned from these very
    // sales, its out-of-fold figures are not out of sample. Say so wherever the scheme is shown.
    const leaky = parent && parent.manifest.trainingDatasetId === ds.id;
    const scheme = parent
      ? `${plan.scheme}; warm start from ${parent.summary.id.slice(0, 12)}${leaky ? ' — OPTIMISTIC: the parent model was trained on these same sales' : ' (if the parent saw any of these sales, the figures are optimistic)'}`
      : plan.scheme;
    const sales = options.window ? `dataset sales of the ${options.window.label}` : 'dataset';
    const cv = { ...pooled, folds: foldMetrics, scheme: extra || options.window ? `${scheme}; ${sales}${extra ? ` plus ${extra.label}` : ''}` : scheme };
    const manifest: ModelManifest = {
      format: 'appraise-model/1',
      modelId,
      name,
      createdAt: new Date().toISOString(),
      trainerVersion: `appraise ${APPRAISE_VERSION}`,
      mode: parent ? 'warm-start' : 'full',
      parentModelId: parent?.summary.id ?? null,
      trainingDatasetId: ds.id,
      trainingDatasetName: ds.name,
      featureTransform: transform,
      datasetConfig: parent ? parent.manifest.datasetConfig : ds.config,
      params: paramsRecord(finalParams),
      nTrees: model.trees.length,
      cv,
      intervals,
      onnx: {
        file: 'model.onnx',
        sha256: modelId,
        opset: 5,
        operator: 'ai.onnx.ml.TreeEnsemble',
        inputName: ONNX_INPUT,
        outputName: ONNX_VALUE_OUTPUT,
        rawOutputName: ONNX_RAW_OUTPUT,
      },
      saleDateRange: dateRange(m.saleDay),
      residualSample: residualSample(scored, m.y, oof, compiled.inverseTarget, params.seed),
      featureRanges: featureRanges(shown.X, shown.nRows, compiled.names, compiled.kinds),
      reference: referenceHistograms(shown.X, shown.nRows, compiled.names, compiled.kinds, compiled.categoryCounts),
      lossEstimator,
      propertyIntervals,
      ...(finalIndex ? { market: finalIndex.index } : {}),
      ...(outOfTime ? { outOfTime } : {}),
      ...(tuning ? { tuning } : {}),
    };
    this.models.add(manifest, onnx, model);
    return {
      modelId,
      name,
      status: 'challenger',
      cv,
      ...(outOfTime ? { outOfTime } : {}),
      market: finalIndex
        ? {
            reference: finalIndex.index.reference,
            periods: finalIndex.index.whole.points.length,
            regions: finalIndex.index.regions.length,
            lastSaleDate: finalIndex.index.lastSaleDate,
            controls: finalIndex.index.controls,
          }
        : null,
      intervals: intervals.map((i) => ({ level: i.level, empiricalCoverage: i.empiricalCoverage })),
      coverage: { ...propertyIntervals.coverage, rows: propertyIntervals.rows },
      trainSeconds: (performance.now() - started) / 1000,
      nTrees: model.trees.length,
      params: paramsRecord(finalParams),
      ...(tuning ? { tuning } : {}),
      categoryTails: categoryTails(transform),
    };
  }

  /** Accuracy of a registered model on a dataset it may not have seen (e.g. newer sales). */
  async evaluate(modelRef: string, datasetRef: string): Promise<AccuracyMetrics> {
    const stored = this.models.load(modelRef);
    const ds = this.datasets.get(datasetRef);
    const transform = stored.manifest.featureTransform;
    checkCompatible(
      transform,
      ds.columns.map((c) => c.name),
      ds.config.target.column,
    );
    const compiled = compileFeatureTransform(transform);
    const m = this.datasets.readMatrix(ds, transform, compiled);
    if (!stored.ensemble) throw invalidInput('evaluating imported ONNX-only models is done by `appraise score`');
    const pred = new FastTreePredictor(stored.ensemble).predict(m.X, m.nRows);
    const index = stored.manifest.market;
    if (index) {
      // The trees give prices at the index's reference period: each sale's estimate is moved to its own date.
      const region = index.region ? columnValues(this.datasets, ds, index.region.column) : null;
      for (let i = 0; i < m.nRows; i++) {
        if (Number.isNaN(m.saleDay[i])) continue;
        const f = adjustmentAtDay(index, seriesFor(index, region?.get(m.rowIndex[i]) ?? null), m.saleDay[i]).logFactor;
        pred[i] = compiled.target(compiled.inverseTarget(pred[i]) * Math.exp(f));
      }
    }
    return metricsFor(m.y, pred, compiled.inverseTarget);
  }
}

/** The learner's view of a dataset matrix: its rows with the compiled transform's feature names, kinds and codes. */
export function trainingDataOf(m: TrainingMatrix, compiled: CompiledTransform): TrainingData {
  return {
    nRows: m.nRows,
    nFeatures: m.nFeatures,
    X: m.X,
    y: m.y,
    featureNames: compiled.names,
    featureKinds: compiled.kinds,
    categoryCounts: compiled.categoryCounts,
  };
}

/**
 * The feature definition a new model gets: category vocabularies from the values' frequencies over all rows.
 * Fitted once for cross-validation and the final model alike; it reads no target, so test folds cannot leak
 * into it through their prices (the leakage test checks that).
 */
export function fitDatasetTransform(datasets: DatasetStore, ds: ReturnType<DatasetStore['get']>): FeatureTransform {
  const categorical = Object.entries(ds.config.dataset.columns)
    .filter(([, c]) => c.type === 'categorical')
    .map(([n]) => n);
  return fitFeatureTransform(ds.config, datasets.categoryFrequencies(ds, categorical));
}

/**
 * Out-of-fold predictions: each active fold's test rows predicted by a model fitted on that fold's training rows
 * alone (binning, early stopping and every other fitted part included), NaN for rows no fold scores. Folds with
 * too few training rows are skipped. Folds run in parallel threads; each reports its own rounds.
 */
export async function outOfFoldPredictions(
  data: TrainingData,
  plan: FoldPlan,
  params: GbdtParams,
  opts: Omit<ParallelFoldOptions, 'onProgress'> & {
    onProgress?: (fold: number, folds: number, p: TrainingProgress) => void;
    /** Deflate each fold's prices by an index fitted on its own training rows, re-inflate its test predictions. */
    market?: { setup: MarketSetup; compiled: CompiledTransform };
  } = {},
): Promise<{ oof: Float64Array; jobs: FoldJob[]; predictions: Map<number, Float64Array> }> {
  const jobs: FoldJob[] = plan.activeFolds
    .map((k) => ({ fold: k, testRows: Int32Array.from(plan.fold.keys()).filter((i) => plan.fold[i] === k), trainRows: plan.trainRows(k) }))
    .filter((j) => j.testRows.length > 0 && j.trainRows.length >= MIN_TRAINING_ROWS);
  const reinflate = new Map<number, (pred: Float64Array) => Float64Array>();
  if (opts.market)
    for (const j of jobs) {
      const d = deflatedFold(opts.market.setup, data, opts.market.compiled, j.trainRows, j.testRows);
      j.y = d.y;
      reinflate.set(j.fold, d.reinflate);
    }
  const { market: _market, ...parallel } = opts;
  const predictions = await fitFoldsInParallel(data, jobs, params, { ...parallel, onProgress: (fold, p) => opts.onProgress?.(fold, jobs.length, p) });
  for (const [fold, up] of reinflate) predictions.set(fold, up(predictions.get(fold)!));
  const oof = new Float64Array(data.nRows).fill(NaN);
  for (const j of jobs) {
    const pred = predictions.get(j.fold)!;
    j.testRows.forEach((r, i) => (oof[r] = pred[i]));
  }
  return { oof, jobs, predictions };
}

/** Expanding-window cross-validation (time-ordered blocks, each predicted from the earlier ones): pooled and per block. */
async function outOfTimeMetrics(
  data: TrainingData,
  saleDay: Float64Array,
  folds: number,
  params: GbdtParams,
  compiled: CompiledTransform,
  market: MarketSetup | null,
  opts: { concurrency?: number; signal?: AbortSignal; onProgress?: (fold: number, folds: number, p: TrainingProgress) => void; tune?: TuneRequest },
): Promise<CvMetrics | undefined> {
  const plan = timeFolds(saleDay, folds);
  const { oof, jobs, predictions } = await outOfFoldPredictions(data, plan, params, { ...opts, market: market ? { setup: market, compiled } : undefined });
  const scored = Int32Array.from(oof.keys()).filter((i) => !Number.isNaN(oof[i]));
  if (scored.length === 0) return undefined;
  const blocks = jobs.map((j) =>
    metricsFor(
      Float64Array.from(j.testRows, (r) => data.y[r]),
      predictions.get(j.fold)!,
      compiled.inverseTarget,
    ),
  );
  const pooled = metricsFor(
    Float64Array.from(scored, (i) => data.y[i]),
    Float64Array.from(scored, (i) => oof[i]),
    compiled.inverseTarget,
  );
  return { ...pooled, folds: blocks, scheme: `${plan.scheme}${market ? ', prices deflated by the local price index' : ''}` };
}

/** Values of one column by source row, as text (null when missing). */
function columnValues(datasets: DatasetStore, ds: ReturnType<DatasetStore['get']>, column: string): Map<number, string | null> {
  const out = new Map<number, string | null>();
  for (const { rowIndex, values } of datasets.iterateRows(ds, [{ name: column }])) out.set(rowIndex, values[0] === null ? null : String(values[0]));
  return out;
}

function metricsFor(yT: ArrayLike<number>, predT: ArrayLike<number>, inverse: (t: number) => number): AccuracyMetrics {
  const actual = Float64Array.from(yT as ArrayLike<number>, inverse);
  const estimate = Float64Array.from(predT as ArrayLike<number>, inverse);
  return accuracyMetrics(actual, estimate, yT, predT);
}

/** The dataset's rows sold on or after `window.fromDay` (rows without a sale date are left out too). */
function inWindow(m: TrainingMatrix, window: TrainOptions['window']): TrainingMatrix {
  if (!window) return m;
  const keep: number[] = [];
  for (let i = 0; i < m.nRows; i++) if (m.saleDay[i] >= window.fromDay) keep.push(i);
  if (keep.length === m.nRows) return m;
  const nF = m.nFeatures;
  const X = new Float32Array(keep.length * nF);
  keep.forEach((r, i) => X.set(m.X.subarray(r * nF, (r + 1) * nF), i * nF));
  return {
    nRows: keep.length,
    nFeatures: nF,
    X,
    y: Float64Array.from(keep, (r) => m.y[r]),
    rowIndex: Int32Array.from(keep, (r) => m.rowIndex[r]),
    saleDay: Float64Array.from(keep, (r) => m.saleDay[r]),
  };
}

/** The dataset's matrix with the extra sales appended (row index -1: they are no row of the dataset's file). */
function withExtraSales(m: TrainingMatrix, extra: ExtraSales | undefined): TrainingMatrix {
  if (!extra || extra.y.length === 0) return m;
  const k = extra.y.length;
  if (extra.X.length !== k * m.nFeatures) throw new AppraiseError('INTERNAL', `extra sales: ${extra.X.length} feature values for ${k} rows of ${m.nFeatures}`);
  const X = new Float32Array((m.nRows + k) * m.nFeatures);
  X.set(m.X);
  X.set(extra.X, m.X.length);
  const y = new Float64Array(m.nRows + k);
  y.set(m.y);
  y.set(extra.y, m.nRows);
  const saleDay = new Float64Array(m.nRows + k);
  saleDay.set(m.saleDay);
  saleDay.set(extra.saleDay, m.nRows);
  const rowIndex = new Int32Array(m.nRows + k).fill(-1);
  rowIndex.set(m.rowIndex);
  return { nRows: m.nRows + k, nFeatures: m.nFeatures, X, y, rowIndex, saleDay };
}

/** A model's features must all be computable from the dataset's columns (same names). */
function checkCompatible(t: FeatureTransform, datasetColumns: string[], target: string): void {
  const have = new Set(datasetColumns);
  const missing = t.columns.filter((c) => !have.has(c.name)).map((c) => c.name);
  if (missing.length > 0 || target !== t.target.column) {
    throw new AppraiseError(
      'INVALID_INPUT',
      `the model expects columns the dataset lacks (${[...missing, ...(target !== t.target.column ? [`target ${t.target.column}`] : [])].join(', ')}); use a dataset with the same schema`,
    );
  }
}

/** Up to 1,000 out-of-fold (actual, estimate) pairs in currency, chosen by a seeded shuffle. */
function residualSample(
  scored: Int32Array,
  y: Float64Array,
  oof: Float64Array,
  inverse: (t: number) => number,
  seed: number,
): { actual: number[]; estimate: number[] } {
  const pick = new SeededRandom(seed + 7).shuffle(Int32Array.from(scored)).subarray(0, 1000);
  return { actual: Array.from(pick, (i) => Math.round(inverse(y[i]))), estimate: Array.from(pick, (i) => Math.round(inverse(oof[i]))) };
}

/** Min and max of each numeric feature that has a value on some row (missing values ignored). */
function featureRanges(X: Float32Array, nRows: number, names: string[], kinds: ('numeric' | 'categorical')[]): { feature: string; min: number; max: number }[] {
  const nF = names.length;
  const out: { feature: string; min: number; max: number }[] = [];
  for (let f = 0; f < nF; f++) {
    if (kinds[f] !== 'numeric') continue;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < nRows; i++) {
      const v = X[i * nF + f];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (min <= max) out.push({ feature: names[f], min, max });
  }
  return out;
}

function dateRange(saleDay: Float64Array): { first: string; last: string } | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const d of saleDay) {
    if (d < lo) lo = d;
    if (d > hi) hi = d;
  }
  if (!Number.isFinite(lo)) return null;
  const iso = (d: number) => new Date(d * 86_400_000).toISOString().slice(0, 10);
  return { first: iso(lo), last: iso(hi) };
}

function paramsRecord(p: GbdtParams): Record<string, number | string | boolean> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v === null ? 'auto' : (v as number | string | boolean)]));
}

/** Parameter names accepted on the command line: camelCase as in GbdtParams, or snake_case. */
export function parseParams(raw: Record<string, number | string>, seed?: number): GbdtParams {
  const known = Object.keys(DEFAULT_GBDT_PARAMS) as (keyof GbdtParams)[];
  const byLower = new Map(known.map((k) => [k.toLowerCase(), k]));
  const out: Partial<Record<keyof GbdtParams, unknown>> = {};
  for (const [name, value] of Object.entries(raw)) {
    const key = byLower.get(name.replace(/_/g, '').toLowerCase());
    if (!key) throw invalidInput(`unknown learner parameter "${name}"; known: ${known.join(', ')}`);
    const def = DEFAULT_GBDT_PARAMS[key];
    if (typeof def === 'number' || def === null) {
      const n = typeof value === 'number' ? value : Number(value);
      if (value === '' || !Number.isFinite(n)) throw invalidInput(`learner parameter ${name} must be a number, got "${value}"`);
      out[key] = n;
    } else out[key] = String(value);
  }
  if (seed !== undefined) out.seed = seed;
  return resolveGbdtParams(out as Partial<GbdtParams>);
}
