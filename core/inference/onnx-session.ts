/**
 * One onnxruntime-node InferenceSession for one model, in the calling thread. Used directly for single valuations
 * (a worker hop costs more than the ~0.1 ms the trees take) and by each pool worker for its own sessions.
 *
 * Models are Appraise exports (outputs `raw` and `value`, see core/onnx/export-tree-ensemble.ts) or imported
 * regressors with one float output, which is then returned as both `raw` and `value`.
 */
import * as ort from 'onnxruntime-node';
import { AppraiseError, invalidInput } from '../common/errors.js';
import { assertSandboxed, parseOnnx } from '../onnx/inspect-onnx.js';
import type { Prediction } from './prediction.js';

export interface OnnxSessionOptions {
  /**
   * Threads onnxruntime may use inside one run. Default 1: parallelism comes from the worker pool (and the trees
   * are too cheap per row for intra-op threads to pay off on small batches).
   */
  intraOpNumThreads?: number;
  /**
   * Refuse graphs outside the operator allow-list before onnxruntime sees them. Default true; false only for tests
   * of the model process's time and memory limits, which need graphs that import refuses.
   */
  operatorAllowList?: boolean;
}

export class OnnxSession {
  /** Number of feature columns the model takes, or null when the file does not fix it. */
  readonly nFeatures: number | null;
  private readonly inputName: string;
  private readonly rawName: string;
  private readonly valueName: string;
  private closed: Promise<void> | null = null;
  private readonly inFlight = new Set<Promise<unknown>>();

  private constructor(private readonly session: ort.InferenceSession) {
    if (session.inputNames.length !== 1) {
      throw invalidInput(`the model has ${session.inputNames.length} inputs; Appraise feeds exactly one float matrix`);
    }
    this.inputName = session.inputNames[0];
    const meta = session.inputMetadata[0];
    const cols = meta?.isTensor ? meta.shape[1] : undefined;
    this.nFeatures = typeof cols === 'number' && cols > 0 ? cols : null;
    const outs = session.outputNames;
    if (outs.includes('raw') && outs.includes('value')) {
      this.rawName = 'raw';
      this.valueName = 'value';
    } else if (outs.length === 1) {
      this.rawName = this.valueName = outs[0];
    } else {
      throw invalidInput(`the model has outputs ${outs.join(', ')}; expected "raw" and "value", or a single regression output`);
    }
  }

  /** Creates the session from ONNX bytes. Throws BAD_FILE when onnxruntime refuses the model. */
  static async create(onnxBytes: Uint8Array, opts: OnnxSessionOptions = {}): Promise<OnnxSession> {
    // A crafted graph (a Loop of 10^15 iterations, a huge ConstantOfShape, external data) would freeze the thread,
    // starve memory or read local files inside onnxruntime; refuse it before a session exists (issue 14, #3/#4).
    if (opts.operatorAllowList !== false) assertSandboxed(onnxBytes);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(onnxBytes, {
        intraOpNumThreads: opts.intraOpNumThreads ?? 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
    } catch (e) {
      // Our own parser says more precisely what is wrong with a damaged or foreign file (only worth it on failure).
      parseOnnx(onnxBytes);
      throw new AppraiseError('BAD_FILE', `onnxruntime cannot load the model: ${firstLine(e)}`, { cause: e });
    }
    try {
      return new OnnxSession(session);
    } catch (e) {
      await session.release();
      throw e;
    }
  }

  /**
   * Scores `nRows` rows. `X` is used in place (no copy) and must not be changed until the promise settles.
   * The returned arrays are owned by the caller.
   */
  async run(X: Float32Array, nRows: number, nFeatures: number): Promise<Prediction> {
    if (this.closed) throw new AppraiseError('CONFLICT', 'the model session is closed');
    checkMatrix(X, nRows, nFeatures, this.nFeatures);
    const feeds = { [this.inputName]: new ort.Tensor('float32', X, [nRows, nFeatures]) };
    const running = this.session.run(feeds);
    this.inFlight.add(running);
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await running;
    } catch (e) {
      throw new AppraiseError('INTERNAL', `onnxruntime failed to score ${nRows} rows: ${firstLine(e)}`, { cause: e });
    } finally {
      this.inFlight.delete(running);
    }
    const raw = out[this.rawName].data as Float32Array;
    const value = this.valueName === this.rawName ? raw.slice() : (out[this.valueName].data as Float32Array);
    return { raw, value };
  }

  /**
   * Releases the native session after the runs already started have settled; later `run` calls are refused.
   * Safe to call more than once: the session is released exactly once.
   */
  close(): Promise<void> {
    this.closed ??= Promise.allSettled([...this.inFlight]).then(() => this.session.release());
    return this.closed;
  }
}

/** Validates a feature matrix against its stated dimensions (and the model's feature count when known). */
export function checkMatrix(X: Float32Array, nRows: number, nFeatures: number, modelFeatures: number | null): void {
  if (!Number.isInteger(nRows) || nRows < 1) throw invalidInput(`nRows must be a positive integer, got ${nRows}`);
  if (!Number.isInteger(nFeatures) || nFeatures < 1) throw invalidInput(`nFeatures must be a positive integer, got ${nFeatures}`);
  if (X.length !== nRows * nFeatures)
    throw invalidInput(`the feature matrix has ${X.length} values, expected ${nRows} rows × ${nFeatures} features = ${nRows * nFeatures}`);
  if (modelFeatures !== null && nFeatures !== modelFeatures) throw invalidInput(`the model takes ${modelFeatures} features, got ${nFeatures}`);
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0].slice(0, 500);
}
