import { FastTreePredictor } from '../learner/model/fast-predictor.js';
import type { ModelManifest } from '../models/model-schemas.js';
import { median } from '../training/accuracy-metrics.js';
import { numericBin } from './drift-statistics.js';

/** Rows predicted together: the tree predictor is fastest on blocks, and a block of 4,096 × 20 floats is small. */
const BLOCK = 4096;

/**
 * Past this many valuations the estimators run on a sample: every row up to here, then one in SAMPLE_EVERY (the
 * row number hashed, so the choice is spread evenly and the same for the same log). Each sampled row counts 1/p
 * (Horvitz–Thompson), so the sums stay unbiased, and counts per window stay exact. The estimate is a mean of
 * per-valuation losses: 100,000 rows already put its sampling error far below the band reported for it, and the
 * two loss ensembles over every row of a large log were the largest part of the report's time.
 */
export const LABEL_FREE_FULL_ROWS = 100_000;
const SAMPLE_EVERY = 8;

/** What the report says about accuracy before prices arrive (see docs/monitoring.md, "label-free estimate"). */
export interface LabelFreeResult {
  /** Why there is no estimate (an imported model, or one trained before estimators existed); null when there is one. */
  unavailable: string | null;
  /** Valuations the estimate is over. */
  n: number;
  /** The model's own held-out (out-of-fold) figures: what the estimate is compared with. */
  reference: { rmseLog: number; mdape: number } | null;
  /** Direct loss estimation, with a 95 % band for the sampling error of a window of n valuations. */
  estimated: { rmseLog: number; rmseLow: number; rmseHigh: number; mdape: number; mdapeLow: number; mdapeHigh: number } | null;
  /**
   * Cross-check: the held-out residual sample re-weighted by how much more (or less) often valuations fall in
   * each decile of the estimate than the model's held-out estimates did (importance weighting on the estimate).
   */
  importanceWeighted: { rmseLog: number } | null;
  /** The realised figures over the valuations of the window that have a sale price linked (null before any). */
  realised: { n: number; rmseLog: number; mdape: number } | null;
}

/**
 * Accumulates the loss estimator's predictions over a scan of the prediction log, one row at a time, in blocks.
 * `add` takes the feature vector the model saw and a key (the report's time bucket) to sum per key as well.
 */
export class LabelFreeAccumulator<K> {
  private readonly abs: FastTreePredictor | null;
  private readonly sq: FastTreePredictor | null;
  private readonly nF: number;
  private readonly block: Float32Array;
  private readonly keys: K[] = [];
  /** The Horvitz–Thompson weight (1/p) of each row in the block. */
  private readonly weights = new Float64Array(BLOCK);
  private sumAbs = 0;
  private sumSq = 0;
  /** Rows added, sampled or not. */
  private seen = 0;
  n = 0;
  readonly perKey = new Map<K, { n: number; sumSq: number }>();

  constructor(
    private readonly manifest: ModelManifest,
    private readonly fullRows = LABEL_FREE_FULL_ROWS,
  ) {
    const e = manifest.lossEstimator;
    this.nF = manifest.featureTransform.features.length;
    this.abs = e ? new FastTreePredictor(e.absError) : null;
    this.sq = e ? new FastTreePredictor(e.squaredError) : null;
    this.block = new Float32Array(e ? BLOCK * this.nF : 0);
  }

  get available(): boolean {
    return this.abs !== null;
  }

  add(features: Float32Array, key: K): void {
    if (!this.abs) return;
    const row = this.seen++;
    let weight = 1;
    if (row >= this.fullRows) {
      if (sampleHash(row) % SAMPLE_EVERY !== 0) {
        // Not sampled: it still counts in its window and in n; its loss is stood for by the sampled rows.
        this.bucket(key).n++;
        this.n++;
        return;
      }
      weight = SAMPLE_EVERY;
    }
    this.block.set(features.subarray(0, this.nF), this.keys.length * this.nF);
    this.weights[this.keys.length] = weight;
    this.keys.push(key);
    if (this.keys.length === BLOCK) this.flush();
  }

  private bucket(key: K): { n: number; sumSq: number } {
    let b = this.perKey.get(key);
    if (!b) this.perKey.set(key, (b = { n: 0, sumSq: 0 }));
    return b;
  }

  private flush(): void {
    const k = this.keys.length;
    if (!this.abs || !this.sq || k === 0) return;
    const X = this.block.subarray(0, k * this.nF);
    const a = this.abs.predict(X, k);
    const s = this.sq.predict(X, k);
    for (let i = 0; i < k; i++) {
      // A regression tree on a non-negative target can still dip below 0 at the edges; a loss cannot.
      const w = this.weights[i];
      const si = (s[i] > 0 ? s[i] : 0) * w;
      this.sumAbs += (a[i] > 0 ? a[i] : 0) * w;
      this.sumSq += si;
      const b = this.bucket(this.keys[i]);
      b.n++;
      b.sumSq += si;
    }
    this.n += k;
    this.keys.length = 0;
  }

  /**
   * The estimate over everything added. The estimators' predictions are used as ratios to their own mean on the
   * held-out sales they learned from, times the realised held-out figures: what is estimated is how much worse or
   * better the current valuations are than the held-out ones, which the trees learn more reliably than levels.
   */
  finish(sold: { estimate: number[]; price: number[] }, importance: { edges: number[]; counts: ArrayLike<number> } | null): LabelFreeResult {
    this.flush();
    const m = this.manifest;
    const forward = m.featureTransform.target.transform === 'log' ? Math.log : m.featureTransform.target.transform === 'log1p' ? Math.log1p : (v: number) => v;
    const realised = realisedErrors(sold, forward);
    const iw = importance && m.residualSample ? importanceWeightedRmse(m.residualSample, importance, forward) : null;
    const e = m.lossEstimator;
    if (!e) {
      return {
        unavailable:
          m.mode === 'imported'
            ? 'this model was imported: it has no loss estimator, so accuracy cannot be estimated before sale prices arrive'
            : 'this model was trained before label-free estimates existed; retrain it to get one',
        n: this.n,
        reference: m.cv ? { rmseLog: m.cv.rmseLog, mdape: m.cv.mdape } : null,
        estimated: null,
        importanceWeighted: iw,
        realised,
      };
    }
    const r = e.reference;
    const reference = { rmseLog: r.rmseLog, mdape: r.mdape };
    if (this.n === 0) return { unavailable: null, n: 0, reference, estimated: null, importanceWeighted: iw, realised };
    const sqScale = this.sumSq / this.n / r.meanPredictedSquared;
    const absScale = this.sumAbs / this.n / r.meanPredictedAbs;
    const mse = r.rmseLog * r.rmseLog * sqScale;
    // Sampling error of a mean of n per-sale losses, their spread scaled with their level.
    const seMse = (1.96 * r.sdSquared * sqScale) / Math.sqrt(this.n);
    const mdape = r.mdape * absScale;
    const relAbs = (1.96 * r.sdAbs) / r.meanAbsLog / Math.sqrt(this.n);
    return {
      unavailable: null,
      n: this.n,
      reference,
      estimated: {
        rmseLog: Math.sqrt(mse),
        rmseLow: Math.sqrt(Math.max(0, mse - seMse)),
        rmseHigh: Math.sqrt(mse + seMse),
        mdape,
        mdapeLow: Math.max(0, mdape * (1 - relAbs)),
        mdapeHigh: mdape * (1 + relAbs),
      },
      importanceWeighted: iw,
      realised,
    };
  }
}

function realisedErrors(sold: { estimate: number[]; price: number[] }, forward: (v: number) => number): LabelFreeResult['realised'] {
  const n = sold.price.length;
  if (n === 0) return null;
  let se = 0;
  const apes = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    se += (forward(sold.estimate[i]) - forward(sold.price[i])) ** 2;
    apes[i] = Math.abs(sold.estimate[i] - sold.price[i]) / sold.price[i];
  }
  return { n, rmseLog: Math.sqrt(se / n), mdape: median(apes.sort()) };
}

/**
 * RMSE of the held-out residual sample, each sale weighted by current share / held-out share of its estimate's
 * bin (bins: the deciles of the held-out log estimates, as the prediction-drift check uses). Under a shift that the
 * estimate captures, this is what the held-out error would have been on the current mix.
 */
function importanceWeightedRmse(
  sample: { actual: number[]; estimate: number[] },
  current: { edges: number[]; counts: ArrayLike<number> },
  forward: (v: number) => number,
): { rmseLog: number } | null {
  const nb = current.counts.length;
  const refCounts = new Float64Array(nb);
  const bins: number[] = [];
  for (let i = 0; i < sample.estimate.length; i++) {
    // The same bins, in the same (log) space, as the report's prediction-drift counts.
    const b = sample.estimate[i] > 0 ? numericBin(current.edges, Math.log(sample.estimate[i])) : -1;
    bins.push(b);
    if (b >= 0) refCounts[b]++;
  }
  let curTotal = 0;
  for (let b = 0; b < nb; b++) curTotal += current.counts[b];
  if (curTotal === 0 || bins.length === 0) return null;
  let sw = 0;
  let swe = 0;
  bins.forEach((b, i) => {
    if (b < 0 || refCounts[b] === 0 || !(sample.actual[i] > 0)) return;
    const w = current.counts[b] / curTotal / (refCounts[b] / bins.length);
    sw += w;
    swe += w * (forward(sample.estimate[i]) - forward(sample.actual[i])) ** 2;
  });
  return sw > 0 ? { rmseLog: Math.sqrt(swe / sw) } : null;
}

/** A well-mixed 32-bit hash of a row number (Murmur3's finaliser): which rows past the full ones are sampled. */
function sampleHash(row: number): number {
  let h = row >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
