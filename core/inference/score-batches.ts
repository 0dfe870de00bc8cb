/**
 * Streams feature batches through a predictor with several batches in flight, yielding results in input order.
 * This is the seam for table-to-table scoring: a reader yields batches (e.g. 4096 rows read from SQLite into a
 * Float32Array, plus the row ids it needs to write results back), a writer consumes `ScoredBatch`es.
 */
import { AppraiseError, invalidInput } from '../common/errors.js';
import type { Prediction, ValuationPredictor } from './prediction.js';

export interface FeatureBatch {
  /** Row-major float32 [nRows, nFeatures], NaN for missing. Not modified or detached by scoring. */
  X: Float32Array;
  nRows: number;
  nFeatures: number;
}

export interface ScoredBatch<B extends FeatureBatch> {
  /** The batch as the source yielded it (carry row ids or any other context on it). */
  batch: B;
  prediction: Prediction;
}

export interface ScoreBatchesOptions {
  /** Batches being scored at once. Default 4: enough to keep a 2-worker pool busy while the caller writes. */
  concurrency?: number;
  /** Stops reading new batches; the generator then throws CANCELLED. */
  signal?: AbortSignal;
}

export async function* scoreBatches<B extends FeatureBatch>(
  predictor: ValuationPredictor,
  modelId: string,
  batches: AsyncIterable<B> | Iterable<B>,
  opts: ScoreBatchesOptions = {},
): AsyncGenerator<ScoredBatch<B>, void, undefined> {
  const concurrency = opts.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw invalidInput(`concurrency must be a positive integer, got ${concurrency}`);
  const source = Symbol.asyncIterator in batches ? batches[Symbol.asyncIterator]() : toAsync(batches[Symbol.iterator]());
  const inFlight: { batch: B; result: Promise<Prediction> }[] = [];
  let exhausted = false;
  try {
    for (;;) {
      while (!exhausted && inFlight.length < concurrency) {
        if (opts.signal?.aborted) throw new AppraiseError('CANCELLED', 'batch scoring was cancelled');
        const next = await source.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        const batch = next.value;
        const result = predictor.predict(modelId, batch.X, batch.nRows, batch.nFeatures);
        result.catch(() => undefined); // surfaced when its turn comes; never an unhandled rejection meanwhile
        inFlight.push({ batch, result });
      }
      const head = inFlight.shift();
      if (!head) return;
      yield { batch: head.batch, prediction: await head.result };
    }
  } finally {
    await source.return?.();
  }
}

function toAsync<T>(it: Iterator<T>): AsyncIterator<T> {
  return {
    next: async () => it.next(),
    return: async () => it.return?.() ?? { done: true, value: undefined },
  };
}
