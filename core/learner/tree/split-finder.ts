import type { FeatureBins } from '../data/feature-binning.js';

/** The split-search knobs (a subset of GbdtParams, resolved). */
export interface SplitConstraints {
  /** L2 regularisation on leaf values. */
  lambda: number;
  minSamplesLeaf: number;
  /** Minimum hessian sum per child. */
  minChildWeight: number;
  /** A split must improve the (un-halved) objective by more than this. */
  minGain: number;
  /** Added to a category's hessian when ordering categories (LightGBM's cat_smooth / sklearn's MIN_CAT_SUPPORT). */
  catSmooth: number;
  /**
   * Most categories sent left by one categorical split (LightGBM's max_cat_threshold). A feature with more
   * categories than this in a node is "wide" there, and only wide splits get catL2 and minDataPerGroup.
   */
  maxCatThreshold: number;
  /** Extra L2 regularisation on the children of a wide categorical split (LightGBM's cat_l2). */
  catL2: number;
  /**
   * Fewest rows added to the left group between two candidate wide categorical splits, and fewest rows on the
   * right (LightGBM's min_data_per_group): a split that isolates a handful of rows of thin levels is not tried.
   */
  minDataPerGroup: number;
}

/** The best split of one node; `leftBins[b]` = 1 when bin b (missing bin included) goes left. */
export interface SplitCandidate {
  gain: number;
  feature: number;
  /** Numeric: value bins 0..binThreshold go left. -1 for categorical splits. */
  binThreshold: number;
  defaultLeft: boolean;
  leftBins: Uint8Array;
  gradLeft: number;
  hessLeft: number;
  countLeft: number;
  gradRight: number;
  hessRight: number;
  countRight: number;
}

/** Reused between calls for the categorical ordering (each thread has its own module instance). */
let catScratch = { used: new Int32Array(256), ratio: new Float64Array(256) };

/** Un-halved structure score of a leaf: G² / (H + λ). Leaf value is −G / (H + λ). */
const score = (g: number, h: number, lambda: number) => (g * g) / (h + lambda);

/**
 * Scans one node's histogram for the best split over the active features. Counts per side are estimated from
 * hessians (count = hessian × node count / node hessian), exact when hessians are constant as for our losses
 * without weights; this keeps the histogram at two numbers per bin.
 */
export function findBestSplit(
  hist: Float64Array,
  base: number,
  featureBins: readonly FeatureBins[],
  featureOffset: Int32Array,
  activeFeatures: Int32Array,
  sumGrad: number,
  sumHess: number,
  count: number,
  c: SplitConstraints,
): SplitCandidate | null {
  const parentScore = score(sumGrad, sumHess, c.lambda);
  const countPerHess = sumHess > 0 ? count / sumHess : 0;
  const minCount = Math.max(1, c.minSamplesLeaf);

  // Both child constraints as one hessian bound: round(h × countPerHess) >= minCount ⇔ h >= (minCount − 0.5) / countPerHess.
  const minHess = Math.max(c.minChildWeight, countPerHess > 0 ? (minCount - 0.5) / countPerHess : Infinity);
  const lambda = c.lambda;
  if (sumHess < 2 * minHess) return null;

  // The winner so far, kept as plain numbers: the candidate (with its leftBins array) is built once at the end —
  // building one per improving feature allocated in the hottest search loop.
  let bestGain = c.minGain;
  let bestF = -1;
  let bestB = -1; // numeric: last value bin going left
  let bestMissLeft = false;
  let bestLen = 0; // categorical: how many of the saved order go left
  let bestOrder: Int32Array | null = null;

  for (let j = 0; j < activeFeatures.length; j++) {
    const f = activeFeatures[j];
    const fb = featureBins[f];
    const o = base + (featureOffset[f] << 1);
    const k = fb.nValueBins;
    const gMiss = hist[o + (k << 1)];
    const hMiss = hist[o + (k << 1) + 1];
    const hasMissing = hMiss > 0;

    if (fb.kind === 'numeric') {
      let gl = 0;
      let hl = 0;
      if (!hasMissing) {
        // The common case, without the missing-left alternative. An empty bin leaves both sides unchanged, so its
        // gain equals the previous bin's: skip it (common deep down).
        for (let b = 0; b <= k - 2; b++) {
          const hb = hist[o + (b << 1) + 1];
          if (hb === 0) continue;
          gl += hist[o + (b << 1)];
          hl += hb;
          if (hl < minHess) continue;
          const hr = sumHess - hl;
          if (hr < minHess) break;
          const gr = sumGrad - gl;
          const gain = score(gl, hl, lambda) + score(gr, hr, lambda) - parentScore;
          if (gain > bestGain) {
            bestGain = gain;
            bestF = f;
            bestB = b;
            bestMissLeft = false;
          }
        }
        continue;
      }
      // b = k-1 puts every value left and only missing right.
      for (let b = 0; b <= k - 1; b++) {
        const hb = hist[o + (b << 1) + 1];
        if (hb === 0 && b > 0) continue;
        gl += hist[o + (b << 1)];
        hl += hb;
        // Missing values go right.
        let hr = sumHess - hl;
        if (hl >= minHess && hr >= minHess) {
          const gr = sumGrad - gl;
          const gain = score(gl, hl, lambda) + score(gr, hr, lambda) - parentScore;
          if (gain > bestGain) {
            bestGain = gain;
            bestF = f;
            bestB = b;
            bestMissLeft = false;
          }
        }
        // Missing values go left.
        if (b < k - 1) {
          const hl2 = hl + hMiss;
          hr = sumHess - hl2;
          if (hl2 >= minHess && hr >= minHess) {
            const gl2 = gl + gMiss;
            const gr = sumGrad - gl2;
            const gain = score(gl2, hl2, lambda) + score(gr, hr, lambda) - parentScore;
            if (gain > bestGain) {
              bestGain = gain;
              bestF = f;
              bestB = b;
              bestMissLeft = true;
            }
          }
        }
      }
    } else {
      // Native categorical split, as LightGBM does it: the non-empty categories (missing counts as one) are ordered
      // by g / (h + catSmooth) and prefixes are scanned from both ends, with at most maxCatThreshold categories (and
      // half of them) on the left. With more categories than that the ordering of many thin levels by their noisy
      // means offers a split that fits noise, so those splits also get catL2 added to λ for the children and a
      // candidate only after every minDataPerGroup rows. Measured (docs/model.md): regularising narrow categoricals
      // as well cost ~1 % on Ames; LightGBM's skipping of categories with fewer than catSmooth rows in the node
      // cost 13 % on the wide-categorical shape, so neither is done.
      let nUsed = 0;
      if (catScratch.used.length < k + 1) catScratch = { used: new Int32Array(k + 1), ratio: new Float64Array(k + 1) };
      const { used, ratio } = catScratch;
      for (let b = 0; b <= k; b++) {
        const hb = hist[o + (b << 1) + 1];
        if (hb > 0) {
          // Insertion sort by (ratio, bin) as bins arrive in increasing order: a few dozen categories sort faster
          // this way than through Array.prototype.sort with a comparator (which showed up in profiles).
          const key = hist[o + (b << 1)] / (hb + c.catSmooth);
          let i = nUsed++;
          while (i > 0 && ratio[i - 1] > key) {
            ratio[i] = ratio[i - 1];
            used[i] = used[i - 1];
            i--;
          }
          ratio[i] = key;
          used[i] = b;
        }
      }
      if (nUsed <= 1) continue;
      const maxLeft = Math.min(c.maxCatThreshold, (nUsed + 1) >> 1);
      const wide = nUsed > c.maxCatThreshold;
      const catLambda = wide ? lambda + c.catL2 : lambda;
      const minGroup = wide ? c.minDataPerGroup : 1;
      let bestDir = 0;
      let len = 0;
      for (let dir = 1; dir >= -1; dir -= 2) {
        let gl = 0;
        let hl = 0;
        let groupRows = 0;
        for (let i = 0; i < maxLeft; i++) {
          const b = used[dir === 1 ? i : nUsed - 1 - i];
          const hb = hist[o + (b << 1) + 1];
          gl += hist[o + (b << 1)];
          hl += hb;
          groupRows += Math.round(hb * countPerHess);
          if (hl < minHess) continue;
          const hr = sumHess - hl;
          if (hr < minHess || Math.round(hr * countPerHess) < minGroup) break;
          if (groupRows < minGroup) continue;
          groupRows = 0;
          const gain = score(gl, hl, catLambda) + score(sumGrad - gl, hr, catLambda) - parentScore;
          if (gain > bestGain) {
            bestGain = gain;
            bestDir = dir;
            len = i + 1;
          }
        }
      }
      if (bestDir === 0) continue;
      // Save the left categories in scan order (the scratch order is overwritten by the next categorical feature).
      bestOrder = new Int32Array(len);
      for (let i = 0; i < len; i++) bestOrder[i] = used[bestDir === 1 ? i : nUsed - 1 - i];
      bestF = f;
      bestLen = len;
      bestB = -1;
    }
  }
  if (bestF < 0) return null;

  const fb = featureBins[bestF];
  const o = base + (featureOffset[bestF] << 1);
  const k = fb.nValueBins;
  const leftBins = new Uint8Array(k + 1);
  let gL = 0;
  let hL = 0;
  if (fb.kind === 'numeric') {
    for (let b = 0; b <= bestB; b++) {
      gL += hist[o + (b << 1)];
      hL += hist[o + (b << 1) + 1];
    }
    const hMiss = hist[o + (k << 1) + 1];
    if (bestMissLeft) {
      gL += hist[o + (k << 1)];
      hL += hMiss;
    }
    leftBins.fill(1, 0, bestB + 1);
    // No missing values in this node: send future missing values to the bigger child (as scikit-learn does).
    const defaultLeft = hMiss > 0 ? bestMissLeft : hL >= sumHess - hL;
    leftBins[k] = defaultLeft ? 1 : 0;
    return makeCandidate(bestGain, bestF, bestB, defaultLeft, leftBins, gL, hL, sumGrad, sumHess, countPerHess, count);
  }
  for (let i = 0; i < bestLen; i++) {
    const b = bestOrder![i];
    leftBins[b] = 1;
    gL += hist[o + (b << 1)];
    hL += hist[o + (b << 1) + 1];
  }
  return makeCandidate(bestGain, bestF, -1, leftBins[k] === 1, leftBins, gL, hL, sumGrad, sumHess, countPerHess, count);
}

function makeCandidate(
  gain: number,
  feature: number,
  binThreshold: number,
  defaultLeft: boolean,
  leftBins: Uint8Array,
  gL: number,
  hL: number,
  sumGrad: number,
  sumHess: number,
  countPerHess: number,
  count: number,
): SplitCandidate {
  const countLeft = Math.round(hL * countPerHess);
  return {
    gain,
    feature,
    binThreshold,
    defaultLeft,
    leftBins,
    gradLeft: gL,
    hessLeft: hL,
    countLeft,
    gradRight: sumGrad - gL,
    hessRight: sumHess - hL,
    countRight: count - countLeft,
  };
}
