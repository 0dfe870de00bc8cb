/**
 * One child process that runs onnxruntime sessions for the app, with a time limit on every call and a memory cap
 * (issue 14, finding 3). A model is untrusted data: a crafted graph can loop for ever or allocate gigabytes inside
 * onnxruntime's native code. Worker threads cannot contain that — `worker.terminate()` waits for native code to
 * return, so a thread stuck in a 10^15-iteration Loop never ends, and the process cannot even exit (measured
 * here: terminate() and process.exit() both hung). A child process can always be killed (SIGKILL), so the owner
 * stays responsive whatever the model does.
 *
 * Ownership: the owner of a ModelProcess owns the child; `close()` ends it exactly once. A child that is killed
 * (time limit, memory cap, crash) is replaced by a new one on the next call, which reloads every model that was
 * loaded, so one hostile call never takes the app's valuations down with it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AppraiseError, deserializeError } from '../common/errors.js';
import type { HostResult, LoadedModelInfo } from './onnx-model-host.js';
import type { Prediction } from './prediction.js';

export interface ModelProcessOptions {
  /**
   * Longest one scoring call may run before the process is killed: `timeLimitMs + timeLimitPerRowMs × rows`.
   * Defaults 10 000 ms (or APPRAISE_MODEL_TIME_LIMIT_MS) + 0.5 ms per row — a 500-tree model scores a row in
   * ~35 µs, so honest models stay far below.
   */
  timeLimitMs?: number;
  timeLimitPerRowMs?: number;
  /** Longest a model may take to load (parse and optimise the graph). Default 30 000 ms. */
  loadTimeLimitMs?: number;
  /**
   * Largest resident memory the process may use, in MiB. Default 2048 (or APPRAISE_MODEL_MEMORY_MB). Enforced by watching the process's RSS
   * (Linux: /proc) while a call runs — onnxruntime allocates outside the JavaScript heap, which `--max-old-space-size`
   * (also set) does not cover. On other systems only the JavaScript heap is capped.
   */
  memoryLimitMb?: number;
  /** How often the memory watch samples the RSS while a call runs. Default 25 ms. */
  memoryPollMs?: number;
}

export interface ModelLoadOptions {
  /**
   * Refuse graphs outside the operator allow-list before onnxruntime sees them (core/onnx/inspect-onnx.ts).
   * Default true. False exists only to test the limits themselves with graphs import would refuse.
   */
  operatorAllowList?: boolean;
}

type Method = 'load' | 'predict' | 'unload' | 'close';
interface Pending {
  child: ChildProcess;
  resolve: (r: HostResult<unknown>, runMs: number | undefined) => void;
  reject: (e: AppraiseError) => void;
}

/** What the model process answers (see model-process-entry.ts). */
export interface ModelProcessReply {
  id: number;
  result: HostResult<unknown>;
  /** Time the call took inside the model process, in ms. */
  runMs?: number;
}

/**
 * What scoring costs in one model process, learnt from the calls so far (moving averages): the time per row
 * inside the process, and the fixed cost of a round trip (IPC both ways, wake-ups, serialisation).
 */
export interface ScoringCost {
  msPerRow: number;
  hopMs: number;
}

const DEFAULTS = { timeLimitMs: 10_000, timeLimitPerRowMs: 0.5, loadTimeLimitMs: 30_000, memoryLimitMb: 2048, memoryPollMs: 25 };

export class ModelProcess {
  private readonly opts: typeof DEFAULTS;
  private child: ChildProcess | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Models to reload into a replacement process, with the options they were loaded with. */
  private readonly models = new Map<string, { bytes: Uint8Array; options: ModelLoadOptions }>();
  private ready: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  /** Number of processes started so far (1 after the first call); a kill and respawn adds one. */
  spawned = 0;
  private readonly costs = new Map<string, ScoringCost>();

  constructor(options: ModelProcessOptions = {}) {
    this.opts = { ...DEFAULTS, ...limitsFromEnvironment(), ...options };
    for (const [k, v] of Object.entries(this.opts)) {
      if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0))
        throw new AppraiseError('INVALID_INPUT', `model process option ${k} must be a number ≥ 0, got ${v}`);
    }
  }

  /** Loads (or replaces) a model. BAD_FILE when onnxruntime or the operator allow-list refuses it. */
  async load(modelId: string, onnxBytes: Uint8Array, options: ModelLoadOptions = {}): Promise<LoadedModelInfo> {
    await this.ensureStarted();
    const info = (await this.call('load', [modelId, onnxBytes, options], this.opts.loadTimeLimitMs, 'load the model')) as LoadedModelInfo;
    this.models.set(modelId, { bytes: new Uint8Array(onnxBytes), options });
    return info;
  }

  /** Scores a row-major float32 matrix. A call over the time or memory limit kills the process and rejects with BAD_FILE. */
  async predict(modelId: string, X: Float32Array, nRows: number, nFeatures: number): Promise<Prediction> {
    await this.ensureStarted();
    const limit = this.opts.timeLimitMs + this.opts.timeLimitPerRowMs * Math.max(0, nRows);
    const started = performance.now();
    let runMs: number | undefined;
    const out = (await this.call('predict', [modelId, X, nRows, nFeatures], limit, `value ${nRows === 1 ? 'one property' : `${nRows} properties`}`, (ms) => {
      runMs = ms;
    })) as Prediction;
    if (runMs !== undefined) this.learnCost(modelId, nRows, runMs, performance.now() - started - runMs);
    return out;
  }

  /** The measured cost of scoring with `modelId` here, or null before its first call answered. */
  scoringCost(modelId: string): ScoringCost | null {
    return this.costs.get(modelId) ?? null;
  }

  private learnCost(modelId: string, nRows: number, runMs: number, hopMs: number): void {
    // Moving averages (weight 1/4 for the newest call): they follow a machine that gets busier without one slow
    // call swinging the split decisions.
    const seen = this.costs.get(modelId);
    const perRow = runMs / Math.max(1, nRows);
    const hop = Math.max(0, hopMs);
    this.costs.set(
      modelId,
      seen ? { msPerRow: 0.75 * seen.msPerRow + 0.25 * perRow, hopMs: 0.75 * seen.hopMs + 0.25 * hop } : { msPerRow: perRow, hopMs: hop },
    );
  }

  async unload(modelId: string): Promise<boolean> {
    this.models.delete(modelId);
    this.costs.delete(modelId);
    if (!this.child) return false;
    return (await this.call('unload', [modelId], this.opts.loadTimeLimitMs, 'unload the model')) as boolean;
  }

  /** Ends the process (sessions die with it). Idempotent; calls still running reject with CANCELLED. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const child = this.child;
      this.child = null;
      this.models.clear();
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((res) => child.once('exit', () => res()));
        // Referenced again so the wait for its exit keeps the event loop alive (a CLI awaits close() last).
        child.ref();
        child.kill('SIGKILL');
        await exited;
      }
      if (child) this.failAll(child, new AppraiseError('CANCELLED', 'the model process was closed'));
    })();
    return this.closing;
  }

  private async ensureStarted(): Promise<void> {
    if (this.closing) throw new AppraiseError('CONFLICT', 'the model process is closed');
    if (this.child) return this.ready ?? undefined;
    this.child = this.spawn();
    const reload = [...this.models];
    this.ready = (async () => {
      // A replacement process gets back every model the previous one had, so callers never see the respawn.
      for (const [id, m] of reload) await this.call('load', [id, m.bytes, m.options], this.opts.loadTimeLimitMs, 'reload the model');
    })();
    try {
      await this.ready;
    } finally {
      this.ready = null;
    }
  }

  private spawn(): ChildProcess {
    const here = import.meta.url;
    const fromSource = here.endsWith('.ts');
    const entry = fileURLToPath(new URL(`./model-process-entry.${fromSource ? 'ts' : 'js'}`, here));
    const execArgv = [`--max-old-space-size=${Math.max(64, Math.floor(this.opts.memoryLimitMb / 2))}`];
    // Tests run the TypeScript sources; the child then needs the tsx loader (a dev dependency), as worker threads do.
    if (fromSource)
      execArgv.push(
        '--import',
        pathToFileURL(
          createRequire(here)
            .resolve('tsx/package.json')
            .replace(/package\.json$/, 'dist/loader.mjs'),
        ).href,
      );
    const child = fork(entry, [], { serialization: 'advanced', execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.spawned++;
    child.on('message', (m: ModelProcessReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      p.resolve(m.result, m.runMs);
    });
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      this.failAll(
        child,
        this.closing
          ? new AppraiseError('CANCELLED', 'the model process was closed')
          : new AppraiseError('INTERNAL', `the model process ended unexpectedly (${signal ?? `code ${code}`}); the next valuation starts a new one`),
      );
    });
    child.on('error', () => undefined); // reported through 'exit'
    // The process must not keep the app alive on its own (a CLI command ends when its work is done).
    child.unref();
    child.channel?.unref();
    return child;
  }

  private call(method: Method, args: unknown[], limitMs: number, what: string, onRunMs?: (ms: number) => void): Promise<unknown> {
    const child = this.child;
    if (!child) return Promise.reject(new AppraiseError('INTERNAL', 'the model process is not running'));
    const id = this.nextId++;
    child.channel?.ref(); // a call in flight keeps the process alive until it answers
    return new Promise<unknown>((resolve, reject) => {
      let stop = (): void => undefined;
      const finish = () => {
        stop();
        if (this.pending.size === 0) child.channel?.unref();
      };
      this.pending.set(id, {
        child,
        resolve: (r, runMs) => {
          finish();
          if (runMs !== undefined) onRunMs?.(runMs);
          if (r.ok) resolve(r.value);
          else reject(deserializeError(r.error));
        },
        reject: (e) => {
          finish();
          reject(e);
        },
      });
      stop = this.watch(child, id, limitMs, what);
      child.send({ id, method, args }, (e) => {
        if (e && this.pending.has(id)) this.kill(child, id, new AppraiseError('INTERNAL', `could not reach the model process: ${e.message}`));
      });
    });
  }

  /** Arms the time limit and the memory watch of one call; returns what disarms them. */
  private watch(child: ChildProcess, id: number, limitMs: number, what: string): () => void {
    const timer = setTimeout(() => {
      this.kill(
        child,
        id,
        hostileModel(`the model took too long to ${what} (more than ${formatSeconds(limitMs)}) and was stopped`, { limit: 'time', limitMs }),
      );
    }, limitMs);
    const statusFile = process.platform === 'linux' && child.pid ? `/proc/${child.pid}/status` : null;
    const poll = statusFile
      ? setInterval(() => {
          const rss = rssMb(statusFile);
          if (rss !== null && rss > this.opts.memoryLimitMb)
            this.kill(
              child,
              id,
              hostileModel(`the model needed more than ${this.opts.memoryLimitMb} MiB of memory to ${what} and was stopped`, {
                limit: 'memory',
                limitMb: this.opts.memoryLimitMb,
              }),
            );
        }, this.opts.memoryPollMs)
      : null;
    return () => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
    };
  }

  /** Kills the process: the call `id` gets `error`, every other call in flight learns the process ended. */
  private kill(child: ChildProcess, id: number, error: AppraiseError): void {
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (this.child === child) this.child = null;
    child.kill('SIGKILL');
    p?.reject(error);
  }

  /** Rejects every call in flight on `child` (a replacement process's calls are not affected). */
  private failAll(child: ChildProcess, error: AppraiseError): void {
    for (const [id, p] of [...this.pending]) {
      if (p.child !== child) continue;
      this.pending.delete(id);
      p.reject(error);
    }
  }
}

/**
 * Limits set for a whole installation: APPRAISE_MODEL_TIME_LIMIT_MS (base time limit of one call) and
 * APPRAISE_MODEL_MEMORY_MB (memory cap). Options given in code win.
 */
function limitsFromEnvironment(): Partial<typeof DEFAULTS> {
  const out: Partial<typeof DEFAULTS> = {};
  const read = (name: string, key: keyof typeof DEFAULTS) => {
    const text = process.env[name];
    if (text === undefined || text === '') return;
    const v = Number(text);
    if (!Number.isFinite(v) || v <= 0) throw new AppraiseError('INVALID_INPUT', `${name} must be a positive number, got ${JSON.stringify(text.slice(0, 20))}`);
    out[key] = v;
  };
  read('APPRAISE_MODEL_TIME_LIMIT_MS', 'timeLimitMs');
  read('APPRAISE_MODEL_MEMORY_MB', 'memoryLimitMb');
  return out;
}

function hostileModel(what: string, details: Record<string, unknown>): AppraiseError {
  return new AppraiseError('BAD_FILE', `${what}; it may be damaged or hostile. Re-import it from a trusted source; the app keeps serving your other models`, {
    details,
  });
}

function formatSeconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms)} ms`;
}

/** Resident memory in MiB from /proc/PID/status (VmRSS, in kB), or null once the process is gone. */
function rssMb(statusFile: string): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(statusFile, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** One model loaded in a ModelProcess, used like an in-thread OnnxSession (what the valuation service holds). */
export interface IsolatedSession {
  /** Number of feature columns the model takes, or null when the file does not fix it. */
  readonly nFeatures: number | null;
  run(X: Float32Array, nRows: number, nFeatures: number): Promise<Prediction>;
  /** Unloads the model from the process (the process itself stays with its owner). */
  close(): Promise<void>;
}

/** Loads `onnxBytes` into `host` under `modelId` and returns a session-shaped handle to it. */
export async function openIsolatedSession(host: ModelProcess, modelId: string, onnxBytes: Uint8Array): Promise<IsolatedSession> {
  const { nFeatures } = await host.load(modelId, onnxBytes);
  let closed: Promise<void> | null = null;
  return {
    nFeatures,
    run: (X, nRows, nF) => {
      if (closed) return Promise.reject(new AppraiseError('CONFLICT', 'the model session is closed'));
      return host.predict(modelId, X, nRows, nF);
    },
    close: () => {
      closed ??= host.unload(modelId).then(
        () => undefined,
        () => undefined, // a process that is gone holds nothing any more
      );
      return closed;
    },
  };
}
