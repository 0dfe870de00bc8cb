import os from 'node:os';
import { invalidInput } from '../../common/errors.js';
import type { LossName } from './losses.js';

/**
 * Learner hyper-parameters. Every field is optional; `resolveGbdtParams` fills the defaults below.
 * The defaults are LightGBM / sklearn-HGB's usual starting point (leaf-wise trees with 31 leaves, a small learning
 * rate, early stopping on a 10 % holdout). They are the first candidate of the hyper-parameter search that
 * `appraise train` runs on each dataset (core/training/hyperparameter-search.ts), not a choice made for one region;
 * with `--tune off` they are used as they are.
 */
export interface GbdtParams {
  /** 'squared_error' (default) or 'huber'. */
  loss: LossName;
  /** Huber threshold in target units; null (default) = 0.9 quantile of |residual|, re-estimated each round. */
  huberDelta: number | null;
  /** Shrinkage per tree. Default 0.05. */
  learningRate: number;
  /** Maximum boosting rounds (trees). Default 2000; early stopping usually ends far sooner. */
  nRounds: number;
  /** Default 'leafwise' (best-first). 'depthwise' with maxDepth 6 and maxLeaves 0 matches XGBoost's defaults. */
  growPolicy: 'leafwise' | 'depthwise';
  /** Leaves per tree; 0 = unlimited (needs maxDepth). Default 31. */
  maxLeaves: number;
  /** 0 = unlimited (needs maxLeaves). Default 0 (leaf count is the limit, as in LightGBM/sklearn HGB). */
  maxDepth: number;
  /** Minimum rows per leaf. Default 20. */
  minSamplesLeaf: number;
  /** Minimum hessian sum per leaf. Default 1e-3. */
  minChildWeight: number;
  /** L2 regularisation on leaf values. Default 1. */
  lambda: number;
  /** Minimum objective improvement G²/(H+λ) terms to accept a split. Default 0. */
  minGain: number;
  /** Value bins per feature (2..255; missing gets its own extra bin). Default 255. */
  maxBins: number;
  /** Smoothing added to hessians when ordering categories. Default 10. */
  catSmooth: number;
  /** Most categories on the left of one categorical split (LightGBM's max_cat_threshold); a feature with more
   *  categories than this in a node is "wide" there. Default 32. */
  maxCatThreshold: number;
  /** Extra L2 regularisation on the children of wide categorical splits (LightGBM's cat_l2). Default 10. */
  catL2: number;
  /** Fewest rows per category group of a wide categorical split (LightGBM's min_data_per_group). Default 100.
   *  LightGBM's three defaults, measured better than none on the wide-categorical shape (0.1914 vs 0.1965) and
   *  no worse on KC, Ames, Sacramento and Windsor. */
  minDataPerGroup: number;
  /** Fraction of rows sampled (without replacement) per tree. Default 1. */
  subsample: number;
  /** Fraction of features sampled per tree. Default 0.5: decorrelates trees when features overlap (living area,
   *  above-ground area and neighbours' area); harmful where a few features interact, which is why the search also
   *  tries 0.8 and 1. */
  colsampleByTree: number;
  /** Stop when the validation loss has not improved for this many rounds; 0 = no early stopping. Default 50. */
  earlyStoppingRounds: number;
  /** Share of training rows held out for early stopping when no validation set is given. Default 0.1. */
  validationFraction: number;
  /** Seed for row/column sampling and the internal validation split. Default 0. */
  seed: number;
  /**
   * Build histograms from quantised gradients (as LightGBM 4's use_quantized_grad): each round's gradients are
   * rounded stochastically (seeded) to integer multiples of max|g| / Q, with Q as large as exact double sums allow
   * (32,767 up to ~130k rows, ~4,000 at 1M; see quantisedLevels), packed with the row's unit hessian into one number,
   * so the histogram loop does one add per update instead of two. Leaf values are then refitted from the exact
   * gradients. Ignored (float gradients) when rows carry weights. Default false.
   */
  quantizedGradients: boolean;
}

export const DEFAULT_GBDT_PARAMS: Readonly<GbdtParams> = Object.freeze({
  loss: 'squared_error',
  huberDelta: null,
  learningRate: 0.05,
  nRounds: 2000,
  growPolicy: 'leafwise',
  maxLeaves: 31,
  maxDepth: 0,
  minSamplesLeaf: 20,
  minChildWeight: 1e-3,
  lambda: 1,
  minGain: 0,
  maxBins: 255,
  catSmooth: 10,
  maxCatThreshold: 32,
  catL2: 10,
  minDataPerGroup: 100,
  subsample: 1,
  colsampleByTree: 0.5,
  earlyStoppingRounds: 50,
  validationFraction: 0.1,
  seed: 0,
  quantizedGradients: false,
});

/** Largest leaf count we allocate histograms for (each open leaf holds one). */
const MAX_LEAVES_LIMIT = 4096;

export function resolveGbdtParams(p: Partial<GbdtParams> = {}): GbdtParams {
  const r: GbdtParams = { ...DEFAULT_GBDT_PARAMS, ...stripUndefined(p) };
  const check = (ok: boolean, msg: string) => {
    if (!ok) throw invalidInput(`learner parameter ${msg}`);
  };
  check(r.loss === 'squared_error' || r.loss === 'huber', `loss must be 'squared_error' or 'huber'`);
  check(r.huberDelta === null || r.huberDelta > 0, 'huberDelta must be > 0 or null');
  check(r.learningRate > 0 && r.learningRate <= 1, 'learningRate must be in (0, 1]');
  check(Number.isInteger(r.nRounds) && r.nRounds >= 1, 'nRounds must be an integer >= 1');
  check(r.growPolicy === 'leafwise' || r.growPolicy === 'depthwise', `growPolicy must be 'leafwise' or 'depthwise'`);
  check(Number.isInteger(r.maxLeaves) && r.maxLeaves >= 0 && r.maxLeaves !== 1, 'maxLeaves must be 0 (unlimited) or an integer >= 2');
  check(Number.isInteger(r.maxDepth) && r.maxDepth >= 0, 'maxDepth must be 0 (unlimited) or a positive integer');
  check(r.maxLeaves > 0 || r.maxDepth > 0, 'maxLeaves and maxDepth cannot both be unlimited');
  const leaves = Math.min(r.maxLeaves || Infinity, r.maxDepth ? 2 ** Math.min(r.maxDepth, 30) : Infinity);
  check(leaves <= MAX_LEAVES_LIMIT, `maxLeaves / 2^maxDepth must be <= ${MAX_LEAVES_LIMIT}`);
  check(Number.isInteger(r.minSamplesLeaf) && r.minSamplesLeaf >= 1, 'minSamplesLeaf must be an integer >= 1');
  check(r.minChildWeight >= 0, 'minChildWeight must be >= 0');
  check(r.lambda >= 0, 'lambda must be >= 0');
  check(r.minGain >= 0, 'minGain must be >= 0');
  check(Number.isInteger(r.maxBins) && r.maxBins >= 2 && r.maxBins <= 255, 'maxBins must be an integer in 2..255');
  check(r.catSmooth >= 0, 'catSmooth must be >= 0');
  check(r.catL2 >= 0, 'catL2 must be >= 0');
  check(Number.isInteger(r.minDataPerGroup) && r.minDataPerGroup >= 1, 'minDataPerGroup must be an integer >= 1');
  check(Number.isInteger(r.maxCatThreshold) && r.maxCatThreshold >= 1, 'maxCatThreshold must be an integer >= 1');
  check(r.subsample > 0 && r.subsample <= 1, 'subsample must be in (0, 1]');
  check(r.colsampleByTree > 0 && r.colsampleByTree <= 1, 'colsampleByTree must be in (0, 1]');
  check(Number.isInteger(r.earlyStoppingRounds) && r.earlyStoppingRounds >= 0, 'earlyStoppingRounds must be an integer >= 0');
  check(r.validationFraction > 0 && r.validationFraction < 1, 'validationFraction must be in (0, 1)');
  check(Number.isInteger(r.seed), 'seed must be an integer');
  check(typeof r.quantizedGradients === 'boolean', 'quantizedGradients must be true or false');
  return r;
}

/** Worker threads to use when the caller does not say: all the cores Node may use. */
export function defaultThreads(): number {
  return os.availableParallelism();
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
