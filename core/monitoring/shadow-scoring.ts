import { compileFeatureTransform, type CompiledTransform } from '../features/feature-transform.js';
import { FastTreePredictor } from '../learner/model/fast-predictor.js';
import type { ModelStore } from '../models/model-store.js';
import { adjustmentAtDate } from '../market/market-adjustment.js';
import type { MarketIndex } from '../market/market-schemas.js';
import type { PredictionRecord, PredictionSink } from '../valuation/prediction-sink.js';
import type { MonitoringStore } from './monitoring-store.js';
import type { PredictionLog } from './prediction-log.js';
import type { ReviewSampler } from './review-sampling.js';

interface ShadowModel {
  compiled: CompiledTransform;
  predictor: FastTreePredictor;
  saleDate: string | null;
  /** The model's local price index, when its trees learned deflated prices (core/market), and its last sale. */
  market: MarketIndex | null;
  lastSale: string | null;
}

interface Pending {
  predictionId: string;
  modelId: string;
  input: PredictionRecord['input'];
}

/**
 * The prediction sink valuations report to when challengers run in shadow: it logs the champion's estimate at
 * once (the valuation waits for that insert only), then — after the valuation has returned, on a later turn of
 * the event loop — scores the same validated input with every shadow model and stores those estimates beside the
 * logged prediction. The appraiser never sees them; the paired test reads them once sale prices are linked.
 *
 * Shadow models are scored with their own feature definition (a retrained model may have other category codes)
 * and their stored trees in-process (no ONNX session: a few hundred trees take microseconds). Models without trees
 * (ONNX-only imports) cannot run in shadow and are skipped. `idle()` resolves when every queued score is stored;
 * the owner awaits it before closing the database.
 */
export class ShadowScoringSink implements PredictionSink {
  private queue: Pending[] = [];
  private scheduled: Promise<void> | null = null;
  private readonly cache = new Map<string, ShadowModel | null>();
  /** The last failure to store shadow estimates, if any. */
  lastError: string | null = null;

  constructor(
    private readonly log: PredictionLog,
    private readonly store: MonitoringStore,
    private readonly models: ModelStore,
    /** Draws valuations into the random sample review queue as they are logged (none: no review sampling). */
    private readonly review: ReviewSampler | null = null,
  ) {}

  record(p: PredictionRecord): string {
    const id = this.log.record(p);
    this.review?.consider(id, p);
    const shadow = this.store.shadowModels().filter((m) => m !== p.modelId);
    if (shadow.length === 0) return id;
    for (const modelId of shadow) this.queue.push({ predictionId: id, modelId, input: p.input });
    this.scheduled ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
    return id;
  }

  /**
   * A chunk of batch scores: logged in one transaction, and each row queued for the shadow models as a valuation
   * is (batch scores are paired like valuations once their properties sell).
   */
  recordMany(ps: PredictionRecord[]): string[] {
    const ids = this.log.recordMany ? this.log.recordMany(ps) : ps.map((p) => this.log.record(p));
    const all = this.store.shadowModels();
    if (all.length === 0 || ids.length === 0) return ids;
    ps.forEach((p, i) => {
      for (const modelId of all) if (modelId !== p.modelId) this.queue.push({ predictionId: ids[i], modelId, input: p.input });
    });
    if (this.queue.length > 0) this.scheduled ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
    return ids;
  }

  /** Resolves when every queued shadow estimate is stored. */
  async idle(): Promise<void> {
    while (this.scheduled) await this.scheduled;
  }

  /** Scores one input with a shadow model (null when the model cannot run in shadow). */
  scoreWith(modelId: string, input: PredictionRecord['input']): number | null {
    const m = this.model(modelId);
    if (!m) return null;
    // As a valuation does it (core/valuation/market-conditions.ts): a model with a price index values at its
    // last sale's date and the index moves that to the valuation date; past its horizon this throws (no score).
    const date = m.saleDate ? input[m.saleDate] : null;
    let record = input;
    let logFactor = 0;
    if (m.market && typeof date === 'string') {
      logFactor = adjustmentAtDate(m.market, m.market.region ? input[m.market.region.column] : null, date).logFactor;
      record = { ...input, [m.saleDate!]: m.lastSale ?? date };
    }
    const { vector } = m.compiled.fromRecord(record);
    const raw = m.predictor.predict(vector, 1)[0];
    const estimate = m.compiled.inverseTarget(raw) * Math.exp(logFactor);
    return Number.isFinite(estimate) && estimate > 0 ? estimate : null;
  }

  private model(modelId: string): ShadowModel | null {
    if (!this.cache.has(modelId)) {
      try {
        const stored = this.models.load(modelId);
        this.cache.set(
          modelId,
          stored.ensemble
            ? {
                compiled: compileFeatureTransform(stored.manifest.featureTransform),
                predictor: new FastTreePredictor(stored.ensemble),
                saleDate: stored.manifest.featureTransform.saleDate,
                market: stored.manifest.market ?? null,
                lastSale: stored.manifest.saleDateRange?.last ?? null,
              }
            : null,
        );
      } catch {
        this.cache.set(modelId, null); // archived and deleted, or unreadable: it simply is not scored
      }
    }
    return this.cache.get(modelId) ?? null;
  }

  private drain(): void {
    const batch = this.queue;
    this.queue = [];
    try {
      const rows: { predictionId: string; modelId: string; estimate: number }[] = [];
      for (const q of batch) {
        let estimate: number | null = null;
        try {
          estimate = this.scoreWith(q.modelId, q.input);
        } catch {
          estimate = null; // an input the shadow model's schema refuses: no shadow estimate for it
        }
        if (estimate !== null) rows.push({ predictionId: q.predictionId, modelId: q.modelId, estimate });
      }
      this.store.recordShadow(rows);
    } catch (e) {
      // Shadow scores are a side record: a failure to store them must not break valuations (nor crash the process
      // as an unhandled rejection). It is kept for whoever asks (`lastError`), and those valuations go unpaired.
      this.lastError = e instanceof Error ? e.message : String(e);
    } finally {
      this.scheduled = this.queue.length ? new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain()) : null;
    }
  }
}
