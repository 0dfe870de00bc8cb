import { trainGbdt } from '../learner/boosting/gbdt-trainer.js';
import { selectRows, type TrainingData } from '../learner/data/training-data.js';
import { FastTreePredictor } from '../learner/model/fast-predictor.js';
import { SeededRandom } from '../common/seeded-random.js';
import type { ConfidenceTier, CoverageCell, PropertyIntervals } from '../models/model-schemas.js';
import { TIER_BOUNDS, TIERS, fsdScale, relativeSlope, tierOf } from '../models/confidence-tier.js';
import { conformalQuantile } from './conformal-intervals.js';
import { ESTIMATOR_PARAMS } from './loss-estimator.js';
import type { FeatureTransform } from '../features/feature-transform.js';

/**
 * Per-property intervals by normalised (locally weighted) split conformal prediction, with honest coverage.
 *
 * The out-of-fold sales (each predicted by a model that did not see it) are split three ways, at random:
 * - **difficulty** (40 %): a small tree model σ̂(x) learns the model's |residual| from the features — where the
 *   model is worse (areas, sizes, ages it knows less about);
 * - **calibration** (30 %): the nonconformity score |r| / σ̂(x) sets, per level, the quantile q: the band is
 *   estimate ×/÷ exp(q·σ̂(x)) for a log target. The quantile is set per confidence tier (Mondrian conformal:
 *   the tier is a function of x), so each tier is covered as promised, not only all sales on average; a tier
 *   with too few calibration sales uses the pooled quantile. The FSD scale is fitted here too;
 * - **evaluation** (30 %): coverage is measured on these only, overall, per tier and per price decile. They set
 *   neither the model (out of fold) nor σ̂ nor q, so the figures are what a new sale can expect.
 */

/** Fewest calibration sales for a tier to get its own quantile (the 95 % quantile needs ≥ 20; 100 keeps it stable). */
export const MIN_TIER_ROWS = 100;
const SHARE = { difficulty: 0.4, calibration: 0.3 } as const;
/**
 * The loss estimator's small trees (they travel in the manifest: at most 40 of 8 leaves), with a faster rate and
 * no early stopping: |r| is so noisy that early stopping on a 10 % holdout halted after 8–18 rounds, with the
 * estimates still pulled toward the average (an easy kind of property was stated a 15 % larger FSD than its own
 * errors had). Large leaves (50 sales) keep 40 rounds from fitting the noise.
 */
const DIFFICULTY_PARAMS = { ...ESTIMATOR_PARAMS, nRounds: 40, learningRate: 0.2, earlyStoppingRounds: 0 } as const;

export interface OutOfFoldSplit {
  difficulty: Int32Array;
  calibration: Int32Array;
  evaluation: Int32Array;
}

/** The three-way split of the scored rows (data row numbers), reproducible from the seed. */
export function splitOutOfFold(scored: Int32Array, seed: number): OutOfFoldSplit {
  const order = new SeededRandom(seed + 23).shuffle(Int32Array.from(scored));
  const nD = Math.floor(order.length * SHARE.difficulty);
  const nC = Math.floor(order.length * SHARE.calibration);
  const sorted = (a: Int32Array) => a.sort();
  return {
    difficulty: sorted(order.slice(0, nD)),
    calibration: sorted(order.slice(nD, nD + nC)),
    evaluation: sorted(order.slice(nD + nC)),
  };
}

export async function calibratePropertyIntervals(
  data: TrainingData,
  scored: Int32Array,
  oof: Float64Array,
  inverse: (t: number) => number,
  options: {
    seed: number;
    threads?: number;
    signal?: AbortSignal;
    levels?: number[];
    /** Features that are the sale date's position in time (see `saleTimeFeatures`): σ̂ does not read them. */
    timeFeatures?: readonly number[];
  },
): Promise<PropertyIntervals> {
  const levels = options.levels ?? [0.8, 0.95];
  data = withoutFeatures(data, options.timeFeatures ?? []);
  const split = splitOutOfFold(scored, options.seed);
  const absError = (r: number) => Math.abs(data.y[r] - oof[r]);
  const dRows = selectRows(data, split.difficulty);
  const difficulty = (
    await trainGbdt(
      { ...dRows, y: Float64Array.from(split.difficulty, absError), weights: undefined },
      { ...DIFFICULTY_PARAMS, seed: options.seed + 29 },
      { threads: options.threads ?? 1, signal: options.signal },
    )
  ).model;
  const predictor = new FastTreePredictor(difficulty);
  const onD = predictor.predict(dRows.X, dRows.nRows);
  // Trees fitted to |r| can predict ~0 for a leaf of lucky sales; a floor at a fifth of the typical σ̂ keeps
  // one such leaf from claiming a band of nothing.
  const floor = Math.max(1e-9, 0.2 * medianOf(onD));
  const sigmaOf = (rows: Int32Array) => {
    const p = predictor.predict(selectRows(data, rows).X, rows.length);
    return p.map((s) => Math.max(floor, s));
  };
  const sC = sigmaOf(split.calibration);
  const sE = sigmaOf(split.evaluation);
  const slope = (r: number) => relativeSlope(oof[r], inverse);
  const rhoC = Float64Array.from(split.calibration, (r, i) => sC[i] * slope(r));
  const c = fsdScale(
    Float64Array.from(split.calibration, (r) => inverse(oof[r])),
    Float64Array.from(split.calibration, (r) => inverse(data.y[r])),
    rhoC,
  );
  const tierC = Array.from(rhoC, (rho) => tierOf(c * rho));
  const scoreC = Float64Array.from(split.calibration, (r, i) => absError(r) / sC[i]);
  const calibrated = levels.map((level) => {
    const byTier: Record<string, number> = {};
    for (const t of TIERS) {
      const scores = scoreC.filter((_, i) => tierC[i] === t);
      if (scores.length >= MIN_TIER_ROWS) byTier[t] = conformalQuantile(scores, level);
    }
    return { level, quantile: conformalQuantile(scoreC, level), byTier };
  });

  // Evaluation: rows that set nothing above.
  const tierE = split.evaluation.map((r, i) => TIERS.indexOf(tierOf(c * sE[i] * slope(r))));
  const covered = levels.map((_, li) => {
    const { quantile, byTier } = calibrated[li];
    return Uint8Array.from(split.evaluation, (r, i) => (absError(r) <= (byTier[TIERS[tierE[i]]] ?? quantile) * sE[i] ? 1 : 0));
  });
  const cell = (group: string, members: number[]): CoverageCell => ({
    group,
    n: members.length,
    coverage: levels.map((level, li) => ({ level, coverage: members.length ? members.reduce((a, i) => a + covered[li][i], 0) / members.length : NaN })),
  });
  const all = Array.from(split.evaluation, (_, i) => i);
  const byTier = TIERS.map((t, ti) =>
    cell(
      t,
      all.filter((i) => tierE[i] === ti),
    ),
  ).filter((g) => g.n > 0);
  const price = Float64Array.from(split.evaluation, (r) => inverse(data.y[r]));
  const byPrice = [...all].sort((a, b) => price[a] - price[b]);
  const deciles: CoverageCell[] = [];
  const nE = byPrice.length;
  for (let d = 0; d < 10 && nE >= 10; d++) {
    const members = byPrice.slice(Math.floor((d * nE) / 10), Math.floor(((d + 1) * nE) / 10));
    deciles.push(cell(`${d + 1}: ${roundPrice(price[members[0]])}–${roundPrice(price[members[members.length - 1]])}`, members));
  }
  return {
    format: 'appraise-nconf/1',
    difficulty,
    floor,
    fsdScale: c,
    tiers: { ...TIER_BOUNDS },
    levels: calibrated,
    rows: { difficulty: split.difficulty.length, calibration: split.calibration.length, evaluation: split.evaluation.length },
    coverage: { overall: cell('all', all), byTier, byPriceDecile: deciles },
  };
}

/**
 * The features that only say when a sale happened (the sale date in days, a month index of it). A valuation holds
 * them at the last sale (the price index carries the date), so σ̂ fitted on the sales' own dates would be read at
 * the edge of its time axis for every property: on King County that made the batch 80 % band cover 85 % of a
 * holdout instead of 80 %. Without them σ̂ sees the same inputs when it is fitted and when it is used.
 */
export function saleTimeFeatures(t: Pick<FeatureTransform, 'features' | 'saleDate'>): number[] {
  if (!t.saleDate) return [];
  return t.features.flatMap((f, i) =>
    (f.spec.op === 'days' && f.spec.column === t.saleDate) || (f.spec.op === 'month_index' && f.spec.date === t.saleDate) ? [i] : [],
  );
}

/** The data with these feature columns missing on every row: trees fitted to it never split on them. */
function withoutFeatures(data: TrainingData, features: readonly number[]): TrainingData {
  if (features.length === 0) return data;
  const X = Float32Array.from(data.X);
  for (let i = 0; i < data.nRows; i++) for (const f of features) X[i * data.nFeatures + f] = NaN;
  return { ...data, X };
}

/** The tier a calibration sale falls in for the q it is held to (exported for the valuation side's use). */
export function quantileFor(p: PropertyIntervals, level: number, tier: ConfidenceTier): number | null {
  const l = p.levels.find((x) => x.level === level);
  return l ? (l.byTier[tier] ?? l.quantile) : null;
}

function medianOf(a: Float64Array): number {
  if (a.length === 0) return 0;
  const s = Float64Array.from(a).sort();
  return s[Math.floor(s.length / 2)];
}

function roundPrice(x: number): string {
  const r = Math.abs(x) >= 1e5 ? Math.round(x / 1000) * 1000 : Math.round(x);
  return r.toLocaleString('en-US');
}
