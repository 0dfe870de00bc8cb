import { trainGbdt, type TrainGbdtResult, type TrainingProgress } from '../learner/boosting/gbdt-trainer.js';
import type { TreeEnsemble } from '../learner/model/tree-model.js';
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
  /** Trees the chosen candidate kept on the inner training rows (its early-stopped best round). */
  bestIteration: number;
  innerTrainRows: number;
  seconds: number;
}

export interface SearchResult {
  params: GbdtParams;
  summary: SearchSummary;
}

export interface SearchOptions {
  mode: Exclude<TuneMode, 'off'>;
  /** Parameter names the user fixed: kept at `base`'s value and not searched. */
  fixed?: readonly string[];
  /** Values to try instead of the built-in space (tests pin the candidates with it). */
  space?: Partial<Record<keyof GbdtParams, readonly number[]>>;
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

  const candidates = candidateList(base, space, searched, plan.candidates, rng);
  let alive = candidates.map((_, i) => i);
  const rungs: SearchRung[] = [];
  let last: { index: number; score: number; bestIteration: number }[] = [];
  for (let r = 0; r < plan.rungRows.length; r++) {
    const n = Math.max(MIN_SEARCH_ROWS / 2, Math.round(trainPool.length * plan.rungRows[r]));
    const train = selectRows(data, trainPool.slice(0, Math.min(n, trainPool.length)).sort());
    const scores = new Array<number | null>(candidates.length).fill(null);
    last = [];
    for (const c of alive) {
      const fit = await trainGbdt(train, candidates[c], {
        validation: valid,
        threads: opts.threads ?? 1,
        signal: opts.signal,
        onProgress: (progress) => opts.onProgress?.({ candidate: c, candidates: candidates.length, rung: r, rungs: plan.rungRows.length, progress }),
      });
      const score = fit.history[fit.bestIteration - 1]?.validLoss ?? Infinity;
      scores[c] = score;
      last.push({ index: c, score, bestIteration: fit.bestIteration });
    }
    rungs.push({ rows: train.nRows, candidates: alive.length, scores });
    // Ties go to the earlier candidate (the base parameters come first), so the order is deterministic.
    last.sort((a, b) => a.score - b.score || a.index - b.index);
    alive = last.slice(0, Math.max(1, Math.floor(alive.length / ETA))).map((e) => e.index);
  }
  const best = last[0];
  const params = candidates[best.index];
  return {
    params,
    summary: {
      mode: opts.mode,
      candidates: candidates.length,
      rungs,
      chosen: Object.fromEntries(searched.map((k) => [k, params[k] as number])),
      innerScore: best.score,
      bestIteration: best.bestIteration,
      innerTrainRows: trainPool.length,
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
  return { fit: await trainGbdt(train, refit, fitOpts), params: refit, summary: search.summary };
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
