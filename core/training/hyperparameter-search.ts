import { trainGbdt, type TrainGbdtResult, type TrainingProgress } from '../learner/boosting/gbdt-trainer.js';
import type { SerializedTree, TreeEnsemble } from '../learner/model/tree-model.js';
import { resolveGbdtParams, type GbdtParams } from '../learner/boosting/gbdt-params.js';
import { selectRows, type TrainingData } from '../learner/data/training-data.js';
import { SeededRandom } from '../common/seeded-random.js';

/** How hard `appraise train` searches the learner's hyper-parameters: `off` uses the given/default values as they are. */
export type TuneMode = 'fast' | 'thorough' | 'off';

/** The values the search may try per parameter. Chosen as the usual LightGBM/HGB ranges, not on any one dataset. */
const SPACE: Partial<Record<keyof GbdtParams, readonly number[]>> = {
  maxLeaves: [15, 31, 63],
  minSamplesLeaf: [5, 20, 50],
  colsampleByTree: [0.5, 0.8, 1],
  learningRate: [0.05, 0.1],
  catSmooth: [1, 10, 30],
  catL2: [1, 10],
};

/** Candidates per mode and the share of the inner training rows each rung fits on (the last rung: all of them). */
const PLANS: Record<Exclude<TuneMode, 'off'>, { candidates: number; rungRows: number[] }> = {
  // fast: six candidates on a quarter of the inner rows keeps King County (5 folds, out-of-time blocks and the
  // final model, 21,597 sales) under a minute on two cores; a third of the rows measured 62 s.
  fast: { candidates: 6, rungRows: [1 / 4, 1] },
  thorough: { candidates: 18, rungRows: [1 / 9, 1 / 3, 1] },
};

/** Survivors per rung: the best third (successive halving with η = 3), at least one. */
const ETA = 3;
/** Share of the given rows held out to score candidates. */
const INNER_HOLDOUT = 0.2;
/** Below this many given rows a holdout score is noise: the search keeps the base parameters. */
export const MIN_SEARCH_ROWS = 100;
/**
 * Up to this many given rows, the last rung scores its survivors by 5-fold inner cross-validation (the 20 % holdout
 * and the four other fifths) instead of the one holdout: below ~10,000 rows a 20 % holdout of at most 2,000 sales
 * is a noisy judge of candidates and of the round count, and the fits are cheap. Above it the single holdout is
 * kept (King County, 21,597 sales, is over it: its models and training time stay as they were). `appraise train`
 * decides it from the whole table's size (TuneRequest.tableRows), so every fold runs the final model's procedure.
 */
export const INNER_CV_MAX_ROWS = 10_000;
/** Inner folds of the last rung at or below INNER_CV_MAX_ROWS: each is the share INNER_HOLDOUT of the rows. */
const INNER_FOLDS = Math.round(1 / INNER_HOLDOUT);

export interface SearchRung {
  rows: number;
  candidates: number;
  /** Validation RMSE (target space) of each candidate at this rung, in candidate order; null: eliminated earlier. */
  scores: (number | null)[];
}

export interface SearchSummary {
  mode: Exclude<TuneMode, 'off'>;
  candidates: number;
  rungs: SearchRung[];
  /** Values the search chose for the parameters it searched (explicit user parameters are never searched). */
  chosen: Record<string, number>;
  /** Inner-holdout RMSE of the chosen candidate at the last rung. */
  innerScore: number;
  /** Trees the chosen candidate kept on the inner training rows (its early-stopped best round; the mean over the
   *  inner folds when the last rung cross-validated). */
  bestIteration: number;
  innerTrainRows: number;
  /** Inner folds of the last rung (1: the single holdout). */
  innerFolds: number;
  /** Models averaged into the final one (the refit and the inner folds' models); absent: the refit alone. */
  bagged?: number;
  seconds: number;
}

export interface SearchResult {
  params: GbdtParams;
  summary: SearchSummary;
  /** The chosen candidate's early-stopped models of the inner folds of the last rung when it cross-validated
   *  (empty with the single holdout): `tunedFit` averages them with the refit. */
  innerModels: TreeEnsemble[];
}

export interface SearchOptions {
  mode: Exclude<TuneMode, 'off'>;
  /** Parameter names the user fixed: kept at `base`'s value and not searched. */
  fixed?: readonly string[];
  /** Values to try instead of the built-in space (tests pin the candidates with it). */
  space?: Partial<Record<keyof GbdtParams, readonly number[]>>;
  /** Most given rows for which the last rung cross-validates (default INNER_CV_MAX_ROWS; tests move it). */
  innerCvMaxRows?: number;
  /** Decide the inner cross-validation from this row count instead of the given rows' (see TuneRequest.tableRows). */
  tableRows?: number;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (p: { candidate: number; candidates: number; rung: number; rungs: number; progress: TrainingProgress }) => void;
}

/**
 * Successive halving over a small hyper-parameter space, scored on an inner holdout drawn from `rows` alone: no
 * other row of `data` is read, so a cross-validation fold that runs the search on its training rows keeps its test
 * rows out of the choice. Seeded by `base.seed`: the same rows and seed give the same choice.
 * Returns the chosen parameters (fixed and non-searched ones as in `base`) and a summary for the manifest.
 */
export async function searchHyperparameters(data: TrainingData, rows: Int32Array, base: GbdtParams, opts: SearchOptions): Promise<SearchResult | null> {
  if (rows.length < MIN_SEARCH_ROWS) return null;
  const started = performance.now();
  const fixed = new Set((opts.fixed ?? []).map((n) => n.replace(/_/g, '').toLowerCase()));
  const space = opts.space ?? SPACE;
  const searched = (Object.keys(space) as (keyof GbdtParams)[]).filter((k) => !fixed.has(k.toLowerCase()));
  if (searched.length === 0) return null;
  const plan = PLANS[opts.mode];
  const rng = new SeededRandom(base.seed * 7919 + 17);

  // The inner split: a seeded shuffle of the given rows only.
  const perm = rng.shuffle(Int32Array.from(rows));
  const nValid = Math.max(1, Math.round(perm.length * INNER_HOLDOUT));
  const validRows = perm.slice(0, nValid).sort();
  const trainPool = perm.slice(nValid); // already shuffled: a prefix is a random subsample
  const valid = selectRows(data, validRows);
  const folds = innerFoldCount(opts.tableRows ?? rows.length, opts.innerCvMaxRows);
  const fit = (train: TrainingData, validation: TrainingData, c: number, r: number) =>
    trainGbdt(train, candidates[c], {
      validation,
      threads: opts.threads ?? 1,
      signal: opts.signal,
      onProgress: (progress) => opts.onProgress?.({ candidate: c, candidates: candidates.length, rung: r, rungs: plan.rungRows.length, progress }),
    });
  const bestLoss = (f: TrainGbdtResult) => f.history[f.bestIteration - 1]?.validLoss ?? Infinity;

  const candidates = candidateList(base, space, searched, plan.candidates, rng);
  let alive = candidates.map((_, i) => i);
  const rungs: SearchRung[] = [];
  let last: { index: number; score: number; bestIteration: number; models: TreeEnsemble[] }[] = [];
  let innerTrainRows = trainPool.length;
  for (let r = 0; r < plan.rungRows.length; r++) {
    const scores = new Array<number | null>(candidates.length).fill(null);
    last = [];
    let rungRows: number;
    if (r === plan.rungRows.length - 1 && folds > 1) {
      // Inner cross-validation: fold b holds out the b-th share of the shuffled rows (fold 0: the holdout above).
      const splits = innerSplits(perm, nValid, folds).map((s) => ({ train: selectRows(data, s.train), valid: selectRows(data, s.valid) }));
      rungRows = Math.round(splits.reduce((a, s) => a + s.train.nRows, 0) / folds);
      innerTrainRows = rungRows;
      for (const c of alive) {
        let loss = 0;
        let rounds = 0;
        const models: TreeEnsemble[] = [];
        for (const s of splits) {
          const f = await fit(s.train, s.valid, c, r);
          // Weighted by holdout size: the pooled score of all given rows, each predicted by the model that did not see it.
          loss += bestLoss(f) * s.valid.nRows;
          rounds += f.bestIteration;
          models.push(f.model);
        }
        const score = loss / perm.length;
        scores[c] = score;
        last.push({ index: c, score, bestIteration: Math.max(1, Math.round(rounds / folds)), models });
      }
    } else {
      const n = Math.max(MIN_SEARCH_ROWS / 2, Math.round(trainPool.length * plan.rungRows[r]));
      const train = selectRows(data, trainPool.slice(0, Math.min(n, trainPool.length)).sort());
      rungRows = train.nRows;
      for (const c of alive) {
        const f = await fit(train, valid, c, r);
        const score = bestLoss(f);
        scores[c] = score;
        last.push({ index: c, score, bestIteration: f.bestIteration, models: [] });
      }
    }
    rungs.push({ rows: rungRows, candidates: alive.length, scores });
    // Ties go to the earlier candidate (the base parameters come first), so the order is deterministic.
    last.sort((a, b) => a.score - b.score || a.index - b.index);
    alive = last.slice(0, Math.max(1, Math.floor(alive.length / ETA))).map((e) => e.index);
  }
  const best = last[0];
  const params = candidates[best.index];
  return {
    params,
    innerModels: best.models,
    summary: {
      mode: opts.mode,
      candidates: candidates.length,
      rungs,
      chosen: Object.fromEntries(searched.map((k) => [k, params[k] as number])),
      innerScore: best.score,
      bestIteration: best.bestIteration,
      innerTrainRows,
      innerFolds: folds,
      seconds: (performance.now() - started) / 1000,
    },
  };
}

/**
 * The rounds a model refitted on `allRows` rows should run, from the best round found on `innerRows`: more rows make
 * each tree's leaf values less noisy, so the optimum moves later; scaling by the row ratio (the usual refit rule,
 * e.g. AutoGluon's) is a mild, monotone correction — at a 20 % holdout it adds a quarter more trees.
 */
export function refitRounds(bestIteration: number, innerRows: number, allRows: number): number {
  return Math.max(1, Math.round(bestIteration * (allRows / Math.max(1, innerRows))));
}

/** What a fit is told about tuning: the mode and the parameter names the user gave (never searched). */
export interface TuneRequest {
  mode: TuneMode;
  fixed: string[];
  /**
   * Rows of the whole training table. Whether the last rung cross-validates (and the final model averages the inner
   * models) is decided once from it, so every fold — random or out of time, whose training rows are fewer — runs
   * the procedure that makes the final model. Absent: decided from the rows each search is given.
   */
  tableRows?: number;
}

export interface TunedFit {
  fit: TrainGbdtResult;
  /** The parameters the model was fitted with (after the search, with the refit's round count). */
  params: GbdtParams;
  summary: SearchSummary | null;
}

/**
 * One model on `rows` of `data`, the way every model of a training run is made — each cross-validation fold on its
 * training rows and the final model on all rows, so the CV figures measure this very procedure: with tuning on,
 * search on inner holdouts of `rows`, then refit on all of `rows` for the rounds the search found (scaled, see
 * `refitRounds`) with no rows held out. With tuning off (or a warm start, whose parameters the parent fixed, or too
 * few rows to search), a plain fit with the learner's own early-stopping holdout.
 */
export async function tunedFit(
  data: TrainingData,
  rows: Int32Array | null,
  params: GbdtParams,
  tune: TuneRequest | undefined,
  opts: {
    threads?: number;
    signal?: AbortSignal;
    initModel?: TreeEnsemble;
    onProgress?: (p: TrainingProgress) => void;
    onTuning?: SearchOptions['onProgress'];
  } = {},
): Promise<TunedFit> {
  const all = rows ?? Int32Array.from({ length: data.nRows }, (_, i) => i);
  const train = rows ? selectRows(data, rows) : data;
  const fitOpts = { threads: opts.threads, signal: opts.signal, initModel: opts.initModel, onProgress: opts.onProgress };
  const search =
    tune && tune.mode !== 'off' && !opts.initModel
      ? await searchHyperparameters(data, all, params, {
          mode: tune.mode,
          fixed: tune.fixed,
          tableRows: tune.tableRows,
          threads: opts.threads,
          signal: opts.signal,
          onProgress: opts.onTuning,
        })
      : null;
  if (!search) return { fit: await trainGbdt(train, params, fitOpts), params, summary: null };
  const refit = resolveGbdtParams({
    ...search.params,
    nRounds: Math.min(params.nRounds, refitRounds(search.summary.bestIteration, search.summary.innerTrainRows, all.length)),
    earlyStoppingRounds: 0,
  });
  const fit = await trainGbdt(train, refit, fitOpts);
  const inner = search.innerModels;
  if (inner.length === 0) return { fit, params: refit, summary: search.summary };
  // The inner folds' models are already fitted: averaged with the refit (one equal vote each) they cut the variance
  // of a single fit, which is what limits small tables (LightGBM's cv boosters, bagging).
  // Measured on the few-features location table: equal votes 0.1281, refit alone 0.1303, inner models alone 0.1281,
  // half refit 0.1285 — the equal vote is as good as the best and needs no weight fitted.
  const weight = 1 / (inner.length + 1);
  const members = [fit.model, ...inner].map((model) => ({ model, weight }));
  return {
    fit: { ...fit, model: averageEnsembles(members) },
    params: refit,
    summary: { ...search.summary, bagged: members.length },
  };
}

/** Inner folds of the last rung for this many given rows: 5 up to INNER_CV_MAX_ROWS, else 1 (the single holdout). */
export function innerFoldCount(rows: number, maxRows = INNER_CV_MAX_ROWS): number {
  return rows <= maxRows ? INNER_FOLDS : 1;
}

/** Fold b of the shuffled rows `perm`: the b-th block of `size` rows held out (the last block takes the rest). */
function innerSplits(perm: Int32Array, size: number, folds: number): { train: Int32Array; valid: Int32Array }[] {
  return Array.from({ length: folds }, (_, b) => {
    const lo = b * size;
    const hi = b === folds - 1 ? perm.length : (b + 1) * size;
    const train = new Int32Array(perm.length - (hi - lo));
    train.set(perm.subarray(0, lo));
    train.set(perm.subarray(hi), lo);
    return { train: train.sort(), valid: perm.slice(lo, hi).sort() };
  });
}

/**
 * One ensemble predicting the weighted mean of `members` (weights summing to 1): every tree's leaf values scaled by
 * its model's weight, the base scores averaged. Covers are kept (TreeSHAP is linear in the leaf values, so the
 * explanation of the mean is the mean of the explanations). It is an ordinary ensemble: scoring, ONNX export and a
 * later warm start treat it like any other.
 */
export function averageEnsembles(members: { model: TreeEnsemble; weight: number }[]): TreeEnsemble {
  const first = members[0].model;
  const trees: SerializedTree[] = [];
  let baseScore = 0;
  for (const { model, weight } of members) {
    baseScore += weight * model.baseScore;
    for (const t of model.trees) trees.push({ ...t, value: t.value.map((v) => v * weight) });
  }
  const categoryCounts = first.categoryCounts.map((_, f) => Math.max(...members.map((m) => m.model.categoryCounts[f])));
  return { ...first, baseScore, categoryCounts, trees };
}

/** The base parameters first, then distinct seeded draws from the space (searched keys only). */
function candidateList(
  base: GbdtParams,
  SPACE: Partial<Record<keyof GbdtParams, readonly number[]>>,
  searched: (keyof GbdtParams)[],
  count: number,
  rng: SeededRandom,
): GbdtParams[] {
  const out: GbdtParams[] = [base];
  const seen = new Set([keyOf(base, searched)]);
  const space = searched.reduce((n, k) => n * SPACE[k]!.length, 1);
  for (let attempts = 0; out.length < Math.min(count, space + 1) && attempts < count * 50; attempts++) {
    const c: Partial<GbdtParams> = { ...base };
    for (const k of searched) {
      const values = SPACE[k]!;
      (c as Record<string, unknown>)[k] = values[rng.int(values.length)];
    }
    const p = resolveGbdtParams(c);
    const key = keyOf(p, searched);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  return out;
}

function keyOf(p: GbdtParams, keys: (keyof GbdtParams)[]): string {
  return keys.map((k) => String(p[k])).join('|');
}
