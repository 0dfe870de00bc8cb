import { AppraiseError, invalidInput } from '../../common/errors.js';
import type { TreeEnsemble } from '../model/tree-model.js';
import { validateTrainingData, selectRows, type TrainingData } from '../data/training-data.js';
import { binMatrix, fitFeatureBins, histogramLayout } from '../data/feature-binning.js';
import { SingleThreadBatchRunner, type NodeBatchRunner } from '../tree/node-batch-runner.js';
import { allocateBuffers } from '../tree/training-buffers.js';
import { MIN_PARALLEL_WORK, ThreadPoolBatchRunner } from '../parallel/thread-pool-batch-runner.js';
import { addBinnedTree, maxLeavesOf, TreeGrower, type GrownTree } from '../tree/tree-grower.js';
import type { PackedGradients } from '../tree/histogram.js';
import { createLoss } from './losses.js';
import { defaultThreads, resolveGbdtParams, type GbdtParams } from './gbdt-params.js';
import { FastTreePredictor } from '../model/fast-predictor.js';
import { SeededRandom } from '../../common/seeded-random.js';

/** One boosting round as reported to `onProgress` (fired after every round, on the calling thread). */
export interface TrainingProgress {
  /** 1-based round number (trees added so far in this run). */
  round: number;
  nRounds: number;
  /** Loss on the rows trained on: RMSE for squared error, mean Huber loss for Huber. */
  trainLoss: number;
  /** Same figure on the validation rows; null when there are none (early stopping off, no validation set). */
  validLoss: number | null;
}

export interface TrainGbdtOptions {
  /** Validation rows for early stopping and the live curve. Without it, and with early stopping on, a seeded
   *  `validationFraction` of the training rows is held out. */
  validation?: TrainingData;
  /** Warm start: keep this model's base score and trees and add new trees fitted to the residuals of `data`.
   *  Feature names and kinds must match. */
  initModel?: TreeEnsemble;
  /** Threads for histogram construction (main thread included). Default os.availableParallelism(); 1 = no workers.
   *  Results are identical for any thread count. */
  threads?: number;
  /** Aborting rejects with AppraiseError('CANCELLED') at the next round boundary; workers are terminated. */
  signal?: AbortSignal;
  onProgress?: (p: TrainingProgress) => void;
  /** Tuning: node batches with less work (rows × features) than this run on the main thread even with threads > 1.
   *  Default MIN_PARALLEL_WORK (50,000: below it handing work to a thread costs more than it saves). Tests set 0
   *  to force every batch through the workers. */
  minParallelWork?: number;
}

export interface TrainGbdtResult {
  /** Trees up to the best validation round (all rounds when there is no validation or earlyStoppingRounds is 0). */
  model: TreeEnsemble;
  /** Number of trees this run kept (the model also holds initModel's trees before them). */
  bestIteration: number;
  /** Every round run, including those after the best one. */
  history: TrainingProgress[];
}

/**
 * Trains a gradient-boosted tree ensemble. Deterministic for given data, params and seed (the thread count does not
 * change the result). Owns and always closes its worker threads.
 */
export async function trainGbdt(data: TrainingData, params: Partial<GbdtParams> = {}, options: TrainGbdtOptions = {}): Promise<TrainGbdtResult> {
  const p = resolveGbdtParams(params);
  validateTrainingData(data);
  if (options.validation) {
    validateTrainingData(options.validation, 'validation data');
    if (options.validation.nFeatures !== data.nFeatures) throw invalidInput('validation data must have the same features as training data');
  }
  const threads = options.threads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1) throw invalidInput('threads must be an integer >= 1');
  const init = options.initModel;
  if (init) checkCompatible(init, data);
  throwIfAborted(options.signal);

  // Training rows vs. the early-stopping holdout.
  let train = data;
  let valid = options.validation ?? null;
  if (!valid && p.earlyStoppingRounds > 0) {
    const nValid = Math.round(data.nRows * p.validationFraction);
    if (nValid >= 1 && data.nRows - nValid >= 2) {
      const perm = new SeededRandom(p.seed + 1).shuffle(Int32Array.from({ length: data.nRows }, (_, i) => i));
      valid = selectRows(data, perm.slice(0, nValid).sort());
      train = selectRows(data, perm.slice(nValid).sort());
    }
  }

  const loss = createLoss(p.loss, p.huberDelta);
  const featureBins = fitFeatureBins(train, { maxBins: p.maxBins, seed: p.seed });
  const { featureOffset, totalBins } = histogramLayout(featureBins);
  const featureBinCount = Int32Array.from(featureBins, (fb) => fb.nValueBins + 1);
  const nTrain = train.nRows;
  const nF = train.nFeatures;
  // Tables whose whole histogram is below the parallel threshold never use workers: do not start them.
  const minParallelWork = options.minParallelWork ?? MIN_PARALLEL_WORK;
  const useThreads = threads > 1 && nTrain * nF >= minParallelWork;
  const shape = { bins: binMatrix(train, featureBins), nRows: nTrain, nFeatures: nF, featureOffset, featureBinCount, totalBins, nSlots: maxLeavesOf(p) + 1 };
  const validBins = valid ? binMatrix(valid, featureBins) : null;

  // Starting predictions: the warm-start model's output, or the loss's base score.
  const baseScore = init ? init.baseScore : loss.baseScore(train.y, train.weights);
  const initPredictor = init ? new FastTreePredictor(init) : null;
  const predTrain = initPredictor ? initPredictor.predict(train.X, nTrain) : new Float64Array(nTrain).fill(baseScore);
  const predValid = valid ? (initPredictor ? initPredictor.predict(valid.X, valid.nRows) : new Float64Array(valid.nRows).fill(baseScore)) : null;

  const builder: NodeBatchRunner = useThreads
    ? await ThreadPoolBatchRunner.start(shape, threads, featureBins, p, minParallelWork)
    : new SingleThreadBatchRunner(allocateBuffers(shape, false), featureBins, p);
  try {
    const buf = builder.buffers;
    const grower = new TreeGrower(builder, featureBins, p);
    const rng = new SeededRandom(p.seed);
    // Quantisation draws from its own stream, so sampling is the same with and without it.
    const quant = p.quantizedGradients && !train.weights ? quantisedLevels(nTrain) : null;
    const quantRng = new SeededRandom(p.seed + 2);
    const grad = new Float64Array(nTrain);
    const hess = new Float64Array(nTrain);
    const gh = buf.gh;
    const allFeatures = Int32Array.from({ length: nF }, (_, i) => i);
    const nColumns = Math.max(1, Math.round(nF * p.colsampleByTree));
    const nSampled = Math.max(1, Math.round(nTrain * p.subsample));
    const trees: TreeEnsemble['trees'] = [];
    const history: TrainingProgress[] = [];
    let best = Infinity;
    let bestIteration = 0;
    let lastYield = Date.now();

    for (let round = 1; round <= p.nRounds; round++) {
      throwIfAborted(options.signal);
      loss.prepareRound(train.y, predTrain);
      loss.gradients(train.y, predTrain, train.weights, grad, hess);
      if (nSampled < nTrain) buf.rowIndex.set(rng.sampleSorted(nTrain, nSampled));
      else for (let i = 0; i < nTrain; i++) buf.rowIndex[i] = i;
      // Gradient pairs in row-index order (the tree grower keeps them in node order from here on).
      for (let k = 0; k < nSampled; k++) {
        const r = buf.rowIndex[k];
        gh[k << 1] = grad[r];
        gh[(k << 1) + 1] = hess[r];
      }
      const active = nColumns < nF ? rng.sampleSorted(nF, nColumns) : allFeatures;

      const packed = quant ? quantiseGradients(gh, nSampled, quant, quantRng) : null;
      const grown = grower.grow(nSampled, active, packed);
      if (packed) refitLeaves(grown, buf.rowIndex, grad, hess, p.lambda, p.learningRate);
      trees.push(grown.tree);
      if (nSampled < nTrain) addBinnedTree(grown.binned, buf.bins, nTrain, nF, predTrain);
      else {
        for (const leaf of grown.leaves) for (let k = leaf.start; k < leaf.end; k++) predTrain[buf.rowIndex[k]] += leaf.value;
      }
      let validLoss: number | null = null;
      if (valid && validBins && predValid) {
        addBinnedTree(grown.binned, validBins, valid.nRows, nF, predValid);
        validLoss = loss.evaluate(valid.y, predValid, valid.weights);
      }
      const progress: TrainingProgress = { round, nRounds: p.nRounds, trainLoss: loss.evaluate(train.y, predTrain, train.weights), validLoss };
      history.push(progress);
      options.onProgress?.(progress);

      // Without early stopping every round is kept; the validation curve is then only reported.
      if (validLoss === null || p.earlyStoppingRounds === 0) bestIteration = round;
      else if (validLoss < best) {
        best = validLoss;
        bestIteration = round;
      } else if (p.earlyStoppingRounds > 0 && round - bestIteration >= p.earlyStoppingRounds) break;

      // Let the event loop run now and then, so abort signals and progress consumers are not starved.
      if (Date.now() - lastYield > 20) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = Date.now();
      }
    }

    const categoryCounts = data.categoryCounts.map((c, f) => Math.max(c, init?.categoryCounts[f] ?? 0));
    const model: TreeEnsemble = {
      format: 'appraise-gbdt/1',
      baseScore,
      featureNames: [...data.featureNames],
      featureKinds: [...data.featureKinds],
      categoryCounts,
      trees: [...(init?.trees ?? []), ...trees.slice(0, bestIteration)],
    };
    return { model, bestIteration, history };
  } finally {
    await builder.close();
  }
}

/**
 * Levels for quantised gradients on n rows: the packing base (a power of two above any bin's row count) and the
 * largest Q for which every histogram sum of q × packBase + 1 (|q| <= Q) stays an exact integer in a double
 * (n × packBase × (Q + 1) <= 2^52). Capped at 32,767 levels; below 16 (some 10^8 rows) the gradients stay floats.
 */
export function quantisedLevels(n: number): { levels: number; packBase: number } | null {
  const packBase = 2 ** Math.ceil(Math.log2(n + 1));
  const levels = Math.min(32_767, Math.floor(2 ** 52 / (n * packBase)) - 1);
  return levels >= 16 ? { levels, packBase } : null;
}

/**
 * Rounds the node-ordered gradients gh[2k] (k < n) stochastically to multiples of max|g| / levels — unbiased, so
 * the rounding error averages out over a node's rows instead of piling up — and writes the packed value
 * q × packBase + 1 (the unit hessian as a count) to gh[2k + 1] for the histogram loop. gh[2k] gets q × scale.
 */
function quantiseGradients(gh: Float64Array, n: number, quant: { levels: number; packBase: number }, rng: SeededRandom): PackedGradients {
  let maxAbs = 0;
  for (let k = 0; k < n; k++) maxAbs = Math.max(maxAbs, Math.abs(gh[k << 1]));
  const scale = maxAbs > 0 ? maxAbs / quant.levels : 1;
  const inv = 1 / scale;
  const { levels, packBase } = quant;
  for (let k = 0; k < n; k++) {
    const q = Math.min(levels, Math.max(-levels, Math.floor(gh[k << 1] * inv + rng.next())));
    gh[k << 1] = q * scale;
    gh[(k << 1) + 1] = q * packBase + 1;
  }
  return { scale, packBase };
}

/** Leaf values from the exact gradients of each leaf's rows (LightGBM's quant_train_renew_leaf): the tree's shape
 *  comes from the quantised histograms, its outputs carry no rounding error. */
function refitLeaves(grown: GrownTree, rowIndex: Int32Array, grad: Float64Array, hess: Float64Array, lambda: number, learningRate: number): void {
  for (const leaf of grown.leaves) {
    let g = 0;
    let h = 0;
    for (let k = leaf.start; k < leaf.end; k++) {
      const r = rowIndex[k];
      g += grad[r];
      h += hess[r];
    }
    leaf.value = (-g / (h + lambda)) * learningRate;
    grown.tree.value[leaf.id] = leaf.value;
    grown.binned.value[leaf.id] = leaf.value;
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AppraiseError('CANCELLED', 'training was cancelled');
}

function checkCompatible(init: TreeEnsemble, data: TrainingData): void {
  if (init.format !== 'appraise-gbdt/1') throw invalidInput(`initModel has unknown format ${String(init.format)}`);
  const same =
    init.featureNames.length === data.nFeatures &&
    init.featureNames.every((n, i) => n === data.featureNames[i] && init.featureKinds[i] === data.featureKinds[i]);
  if (!same)
    throw invalidInput('initModel was trained on different features (names and kinds must match, in order)', {
      model: init.featureNames,
      data: data.featureNames,
    });
}
