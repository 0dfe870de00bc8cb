import { createHmac } from 'node:crypto';
import type { ModelStore } from '../models/model-store.js';
import type { ModelManifest } from '../models/model-schemas.js';
import type { PredictionRecord } from '../valuation/prediction-sink.js';
import type { ReviewSample, ReviewSummary, ReviewVerdict } from './monitoring-schemas.js';

/**
 * Random sample review (issue 13, #6; the AVM quality-control rule's "random sample testing and reviews"): a share
 * of single valuations is drawn when it is made into a review queue; a reviewer records a verdict on each.
 */

/** Defaults when the YAML's `monitoring.review` leaves them out: 5 % of valuations, a fixed published seed. */
export const DEFAULT_REVIEW_SHARE = 0.05;
export const DEFAULT_REVIEW_SEED = 'appraise-review';

export function reviewConfigOf(manifest: ModelManifest): { share: number; seed: string } {
  const r = manifest.datasetConfig.monitoring?.review;
  return { share: r?.share ?? DEFAULT_REVIEW_SHARE, seed: r?.seed ?? DEFAULT_REVIEW_SEED };
}

/**
 * The seeded draw of one valuation: HMAC-SHA256(seed, prediction id), its first 48 bits as a number in [0, 1). It
 * depends only on the seed and the id (a random UUID assigned after the input is fixed), so nobody can steer a
 * valuation into or out of the sample, and anyone with the seed can re-check the queue against the log.
 */
export function reviewDraw(seed: string, predictionId: string): number {
  const h = createHmac('sha256', seed).update(predictionId).digest();
  return h.readUIntBE(0, 6) / 2 ** 48;
}

export interface ReviewFilter {
  modelId?: string;
  /** ISO times on the draw (= valuation) time. */
  since?: string;
  until?: string;
  status?: 'open' | 'reviewed' | 'all';
  limit?: number;
}

/** The review queue's storage (`review_samples`, migration 11); all its SQL is in `SqliteReviewStore`. */
export interface ReviewStore {
  /** Adds a drawn valuation to the queue (a second draw of the same id is ignored). */
  addSample(sample: Omit<ReviewSample, 'review'>): void;
  sample(predictionId: string): ReviewSample | null;
  /** Newest first. */
  samples(filter?: ReviewFilter): ReviewSample[];
  /** Stores a verdict on an open sample; false when it already had one (a verdict is never overwritten). */
  recordVerdict(predictionId: string, review: { verdict: ReviewVerdict; adjustedValue: number | null; notes: string | null; by: string; at: string }): boolean;
  /** Counts over the samples of `filter` (status ignored). */
  summary(filter: ReviewFilter & { modelId: string }): Omit<ReviewSummary, 'share' | 'valuations'>;
}

/**
 * Draws single valuations into the review queue as they are logged (called by the prediction sink right after the
 * log insert). The share and seed come from the model's own config, read once per model.
 */
export class ReviewSampler {
  private readonly configs = new Map<string, { share: number; seed: string } | null>();
  /** The last failure to add a sample, if any (a valuation must not fail because its review draw could not be stored). */
  lastError: string | null = null;

  constructor(
    private readonly store: ReviewStore,
    private readonly models: ModelStore,
  ) {}

  consider(predictionId: string, p: PredictionRecord): boolean {
    if (p.source !== 'value') return false;
    const cfg = this.config(p.modelId);
    if (!cfg || cfg.share <= 0) return false;
    const draw = reviewDraw(cfg.seed, predictionId);
    if (draw >= cfg.share) return false;
    try {
      this.store.addSample({
        predictionId,
        modelId: p.modelId,
        drawnAt: p.predictedAt,
        draw,
        share: cfg.share,
        propertyId: p.propertyId,
        estimate: p.estimate,
      });
      return true;
    } catch (e) {
      this.lastError = e instanceof Error ? e.message : String(e);
      return false;
    }
  }

  private config(modelId: string): { share: number; seed: string } | null {
    if (!this.configs.has(modelId)) {
      try {
        this.configs.set(modelId, reviewConfigOf(this.models.manifest(modelId)));
      } catch {
        this.configs.set(modelId, null);
      }
    }
    return this.configs.get(modelId) ?? null;
  }
}
