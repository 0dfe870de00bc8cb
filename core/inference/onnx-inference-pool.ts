/**
 * A pool of worker threads scoring feature matrices with onnxruntime-node. Each worker holds one InferenceSession
 * per loaded model (intra-op threads 1), so the pool size is the parallelism. Batches are split across workers
 * (at least `minRowsPerWorker` rows each) and reassembled in row order; smaller ones go to the least busy worker.
 * Tiny batches (≤ `inThreadMaxRows`, e.g. one valuation) run on an in-thread session instead: the worker hop
 * (~150 µs, measured) costs more than scoring a row (~35 µs for 500 depth-6 trees).
 *
 * Ownership: the pool owns its workers and, through them, every session; `close()` releases all of them exactly
 * once. A worker that dies leaves the pool failed (every later call rejects with INTERNAL); close and recreate it.
 */
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { AppraiseError, deserializeError, notFound } from '../common/errors.js';
import { startWorker } from '../common/worker-entry.js';
import type { HostResult, OnnxModelHost } from './onnx-model-host.js';
import { checkMatrix, OnnxSession } from './onnx-session.js';
import type { Prediction, ValuationPredictor } from './prediction.js';

export interface OnnxInferencePoolOptions {
  /** Number of worker threads. Default min(2, available cores). */
  size?: number;
  /**
   * Fewest rows worth sending to one more worker: a batch goes to min(size, floor(nRows / minRowsPerWorker))
   * workers. Default 32 (≈1 ms of trees per worker, several times the hop cost).
   */
  minRowsPerWorker?: number;
  /** Batches of at most this many rows are scored in the calling thread. Default 4; 0 sends everything to workers. */
  inThreadMaxRows?: number;
}

export interface PredictOptions {
  /**
   * Hand `X`'s buffer to the worker instead of copying it (zero copy; `X` is unusable afterwards). Only applies when
   * `X` spans its whole ArrayBuffer and the batch is not split. Default false.
   */
  transferInput?: boolean;
}

interface PoolWorker {
  index: number;
  worker: Worker;
  host: Comlink.Remote<OnnxModelHost>;
  busy: number;
  /** Rejects when the thread errors or exits; raced against every call so a dead worker cannot hang a caller. */
  died: Promise<never>;
}

export class OnnxInferencePool implements ValuationPredictor {
  readonly size: number;
  private readonly minRowsPerWorker: number;
  private readonly inThreadMaxRows: number;
  private readonly workers: PoolWorker[];
  private readonly models = new Map<string, { nFeatures: number | null; local: OnnxSession | null }>();
  private closing: Promise<void> | null = null;
  private failure: AppraiseError | null = null;

  constructor(opts: OnnxInferencePoolOptions = {}) {
    const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    this.size = opts.size ?? Math.max(1, Math.min(2, cores));
    if (!Number.isInteger(this.size) || this.size < 1) throw new AppraiseError('INVALID_INPUT', `pool size must be a positive integer, got ${opts.size}`);
    this.minRowsPerWorker = Math.max(1, opts.minRowsPerWorker ?? 32);
    this.inThreadMaxRows = Math.max(0, opts.inThreadMaxRows ?? 4);
    this.workers = Array.from({ length: this.size }, (_, index) => this.spawn(index));
  }

  private spawn(index: number): PoolWorker {
    const worker = startWorker(import.meta.url, 'inference-worker');
    const host = Comlink.wrap<OnnxModelHost>(nodeEndpoint(worker));
    const died = new Promise<never>((_, reject) => {
      worker.once('error', (e) => reject(this.workerFailed(index, `failed: ${e instanceof Error ? e.message : String(e)}`)));
      worker.once('exit', (code) => reject(this.workerFailed(index, `exited with code ${code}`)));
    });
    died.catch(() => undefined); // observed through call(); never an unhandled rejection
    return { index, worker, host, busy: 0, died };
  }

  private workerFailed(index: number, what: string): AppraiseError {
    if (this.closing) return new AppraiseError('CANCELLED', 'the inference pool was closed');
    this.failure ??= new AppraiseError('INTERNAL', `inference worker ${index} ${what}; close the pool and create a new one`);
    return this.failure;
  }

  /** Loads (or replaces) a model in every worker. Throws BAD_FILE when onnxruntime refuses the bytes. */
  async loadModel(modelId: string, onnxBytes: Uint8Array): Promise<void> {
    this.assertUsable();
    const settled = await Promise.allSettled(
      this.workers.map((w) => {
        // Each worker owns its copy (the constructor copies even a Node Buffer, whose slice() would be a view);
        // transferring that copy avoids a second one.
        const copy = new Uint8Array(onnxBytes);
        return this.call(w, (h) => h.load(modelId, Comlink.transfer(copy, [copy.buffer])));
      }),
    );
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) {
      await this.unloadModel(modelId).catch(() => undefined);
      throw (failed as PromiseRejectedResult).reason;
    }
    const info = (settled[0] as PromiseFulfilledResult<{ nFeatures: number | null }>).value;
    const local = this.inThreadMaxRows > 0 ? await OnnxSession.create(onnxBytes) : null;
    if (this.closing) {
      // close() ran while we loaded: it cannot have seen this session, so it is ours to release.
      await local?.close();
      throw new AppraiseError('CANCELLED', 'the inference pool was closed while the model was loading');
    }
    const previous = this.models.get(modelId);
    this.models.set(modelId, { nFeatures: info.nFeatures, local });
    await previous?.local?.close();
  }

  /** Closes the model's sessions in every worker. Resolves false when it was not loaded. */
  async unloadModel(modelId: string): Promise<boolean> {
    this.assertUsable();
    const model = this.models.get(modelId);
    this.models.delete(modelId);
    await Promise.all([model?.local?.close(), ...this.workers.map((w) => this.call(w, (h) => h.unload(modelId)))]);
    return model !== undefined;
  }

  /** True when `modelId` has been loaded and not unloaded. */
  hasModel(modelId: string): boolean {
    return this.models.has(modelId);
  }

  /** Scores a row-major float32 matrix; results are in row order. `X` is not modified. */
  async predict(modelId: string, X: Float32Array, nRows: number, nFeatures: number, opts: PredictOptions = {}): Promise<Prediction> {
    this.assertUsable();
    const model = this.models.get(modelId);
    if (!model) throw notFound(`model ${modelId} is not loaded in the inference pool`);
    checkMatrix(X, nRows, nFeatures, model.nFeatures);

    if (model.local && nRows <= this.inThreadMaxRows) return model.local.run(X, nRows, nFeatures);
    const nChunks = Math.min(this.size, Math.floor(nRows / this.minRowsPerWorker));
    if (nChunks <= 1) {
      const whole = X.byteOffset === 0 && X.byteLength === X.buffer.byteLength && X.buffer instanceof ArrayBuffer;
      // Structured clone of a view copies its whole underlying buffer, so views are always sliced first.
      const payload = opts.transferInput && whole ? X : X.slice();
      return this.call(this.leastBusy(), (h) => h.predict(modelId, Comlink.transfer(payload, [payload.buffer]), nRows, nFeatures));
    }

    // Least busy workers first, so concurrent callers spread out.
    const targets = [...this.workers].sort((a, b) => a.busy - b.busy).slice(0, nChunks);
    const chunkRows = Math.ceil(nRows / nChunks);
    const parts = await Promise.all(
      targets.map((w, i) => {
        const start = i * chunkRows;
        const rows = Math.min(chunkRows, nRows - start);
        if (rows <= 0) return null;
        const chunk = X.slice(start * nFeatures, (start + rows) * nFeatures);
        return this.call(w, (h) => h.predict(modelId, Comlink.transfer(chunk, [chunk.buffer]), rows, nFeatures));
      }),
    );
    const raw = new Float32Array(nRows);
    const value = new Float32Array(nRows);
    parts.forEach((p, i) => {
      if (!p) return;
      raw.set(p.raw, i * chunkRows);
      value.set(p.value, i * chunkRows);
    });
    return { raw, value };
  }

  /** Closes every session, then every worker. Idempotent; calls still running reject with CANCELLED. */
  close(): Promise<void> {
    this.closing ??= Promise.all([
      ...[...this.models.values()].map((m) => m.local?.close()),
      ...this.workers.map(async (w) => {
        try {
          await Promise.race([w.host.close(), w.died]);
        } catch {
          // a dead worker has no sessions left to close
        }
        w.host[Comlink.releaseProxy]();
        await w.worker.terminate();
      }),
    ]).then(() => this.models.clear());
    return this.closing;
  }

  private assertUsable(): void {
    if (this.closing) throw new AppraiseError('CONFLICT', 'the inference pool is closed');
    if (this.failure) throw this.failure;
  }

  private leastBusy(): PoolWorker {
    let best = this.workers[0];
    for (const w of this.workers) if (w.busy < best.busy) best = w;
    return best;
  }

  private async call<T>(w: PoolWorker, fn: (host: Comlink.Remote<OnnxModelHost>) => Promise<HostResult<T>>): Promise<T> {
    w.busy++;
    try {
      const result = await Promise.race([fn(w.host), w.died]);
      if (!result.ok) throw deserializeError(result.error);
      return result.value;
    } finally {
      w.busy--;
    }
  }
}
