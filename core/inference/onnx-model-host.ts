/**
 * The service each inference worker exposes: ONNX sessions cached by model id (one session per model per worker).
 *
 * comlink forwards a thrown error as only `{ name, message, stack }`, which would lose AppraiseError codes, so every
 * method returns a `HostResult` envelope and never throws; the pool turns failures back into AppraiseErrors.
 */
import * as Comlink from 'comlink';
import { notFound, serializeError, type SerializedError } from '../common/errors.js';
import { OnnxSession, type OnnxSessionOptions } from './onnx-session.js';
import type { Prediction } from './prediction.js';

export type HostResult<T> = { ok: true; value: T } | { ok: false; error: SerializedError };

export interface LoadedModelInfo {
  nFeatures: number | null;
}

export class OnnxModelHost {
  private readonly sessions = new Map<string, OnnxSession>();

  /** Loads (or replaces) a model. A replaced session is closed after its in-flight runs finish. */
  async load(modelId: string, onnxBytes: Uint8Array, options: Pick<OnnxSessionOptions, 'operatorAllowList'> = {}): Promise<HostResult<LoadedModelInfo>> {
    return settle(async () => {
      const session = await OnnxSession.create(onnxBytes, options);
      const previous = this.sessions.get(modelId);
      this.sessions.set(modelId, session);
      await previous?.close();
      return { nFeatures: session.nFeatures };
    });
  }

  /** Scores a matrix; the result's buffers are transferred to the caller, not copied. */
  async predict(modelId: string, X: Float32Array, nRows: number, nFeatures: number): Promise<HostResult<Prediction>> {
    const result = await settle(async () => {
      const session = this.sessions.get(modelId);
      if (!session) throw notFound(`model ${modelId} is not loaded in this worker`);
      return session.run(X, nRows, nFeatures);
    });
    return result.ok ? Comlink.transfer(result, transferables(result.value)) : result;
  }

  async unload(modelId: string): Promise<HostResult<boolean>> {
    return settle(async () => {
      const session = this.sessions.get(modelId);
      this.sessions.delete(modelId);
      await session?.close();
      return session !== undefined;
    });
  }

  /** Closes every session. The worker itself is terminated by its owner afterwards. */
  async close(): Promise<HostResult<number>> {
    return settle(async () => {
      const all = [...this.sessions.values()];
      this.sessions.clear();
      await Promise.all(all.map((s) => s.close()));
      return all.length;
    });
  }
}

async function settle<T>(fn: () => Promise<T>): Promise<HostResult<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, error: serializeError(e) };
  }
}

/** Buffers that can move to the other thread: whole, plain ArrayBuffers only (not views into a larger one). */
function transferables(p: Prediction): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const a of [p.raw, p.value]) {
    if (a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && !out.includes(a.buffer)) out.push(a.buffer);
  }
  return out;
}
