import type { z } from 'zod';
import { AppraiseError, serializeError, type SerializedError } from '../common/errors.js';
import { APPRAISE_VERSION } from '../common/version.js';
import { validateProperty } from '../schema/row-validator.js';
import type { DatasetService } from '../services/dataset-service.js';
import { summarize } from '../services/dataset-service.js';
import type { ModelServiceApi, TrainingServiceApi, ValuationServiceApi } from '../services/service-types.js';
import type { DatasetVersion } from '../datasets/dataset-store.js';
import { contract, jobContract, isMethodName, type ApiEvent, type ApiValuation, type FormSchema, type MethodName, type MethodOutput, type ParsedInput } from './contract.js';
import { buildFormSchema } from './form-schema.js';
import { inspectBatchFile } from './batch-inspect.js';
import { JobTracker } from './job-tracker.js';
import { JobRunner as WorkerJobRunner } from '../jobs/job-runner.js';
import type { JobRequest } from '../jobs/job-protocol.js';
import { SqliteValuationHistory } from '../valuation/valuation-history.js';
import type Database from 'better-sqlite3';

/**
 * What the dispatcher needs from a process's composition root (core/services/open-workspace.ts `AppServices`
 * satisfies it). Model, training and valuation services are optional so a build without them still serves
 * datasets; their methods then answer NOT_FOUND with a message saying so.
 */
export interface ApiServices {
  workspace: { dir: string; db: Database.Database };
  datasets: DatasetService;
  models?: ModelServiceApi;
  training?: TrainingServiceApi;
  valuation?: ValuationServiceApi;
}

export interface DispatcherOptions {
  /** Validate every output against the contract (a mismatch is an INTERNAL error). Default: on unless NODE_ENV=production. */
  validateOutput?: boolean;
  /** The bundled demo data, offered on first run. */
  demo?: { csv: string; config: string } | null;
  /**
   * Run ingest, training and scoring in worker threads (core/jobs), so the transport's thread stays responsive.
   * Default true; false runs them on the calling thread through the services (for fakes in tests).
   */
  jobsInWorkers?: boolean;
}

type Handlers = { [M in MethodName]: (input: ParsedInput<M>) => Promise<MethodOutput<M>> | MethodOutput<M> };

/**
 * The one place where API calls meet core/: validates the input against the contract (malformed input is an
 * INVALID_INPUT error listing the field paths, never a crash), calls the services, validates the output in
 * development and tests, and runs long work as jobs. Both transports — Electron IPC and the web host — call
 * `call()` and subscribe with `onEvent()`; errors leave as `SerializedError` and are matched by `code`.
 */
export class ApiDispatcher {
  readonly jobs = new JobTracker();
  private readonly workers: WorkerJobRunner | null;
  private readonly history: SqliteValuationHistory<ApiValuation>;
  private readonly validateOutput: boolean;
  private readonly handlers: Handlers;

  constructor(private readonly services: ApiServices, private readonly options: DispatcherOptions = {}) {
    this.history = new SqliteValuationHistory<ApiValuation>(services.workspace.db);
    this.validateOutput = options.validateOutput ?? process.env.NODE_ENV !== 'production';
    this.workers = options.jobsInWorkers === false ? null : new WorkerJobRunner(services.workspace.dir);
    this.handlers = this.buildHandlers();
  }

  /** Calls a method by name with untrusted input; resolves with the output or rejects with an AppraiseError. */
  async call(method: string, input: unknown): Promise<unknown> {
    if (typeof method !== 'string' || !isMethodName(method)) {
      throw new AppraiseError('NOT_FOUND', `unknown API method "${String(method).slice(0, 80)}"`, { details: { method: String(method).slice(0, 80) } });
    }
    const spec = contract[method];
    const parsed = spec.input.safeParse(input ?? {});
    if (!parsed.success) throw invalidInputFrom(method, parsed.error);
    const handler = this.handlers[method] as (i: unknown) => Promise<unknown> | unknown;
    let output: unknown;
    try {
      output = await handler(parsed.data);
    } catch (e) {
      throw e instanceof AppraiseError ? e : new AppraiseError('INTERNAL', e instanceof Error ? e.message : String(e), { cause: e });
    }
    if (this.validateOutput) {
      const checked = spec.output.safeParse(output);
      if (!checked.success) {
        throw new AppraiseError('INTERNAL', `the ${method} result does not match the API contract (a bug)`, { details: { issues: issuesOf(checked.error) } });
      }
    }
    return output;
  }

  /** Same as `call` but never rejects: the shape both transports send over the wire. */
  async callSafe(method: string, input: unknown): Promise<{ ok: true; result: unknown } | { ok: false; error: SerializedError }> {
    try {
      return { ok: true, result: await this.call(method, input) };
    } catch (e) {
      return { ok: false, error: serializeError(e) };
    }
  }

  /**
   * Values the form's typical property once with the champion, so the model session is open and warm before the
   * user's first valuation. Never fails: a workspace without data or champion simply has nothing to warm.
   */
  async warmUp(): Promise<void> {
    try {
      const form = this.activeForm();
      const champion = this.services.models?.list().find((m) => m.status === 'champion');
      if (!form || !champion || !this.services.valuation) return;
      const input: Record<string, string | number> = {};
      for (const f of form.fields) if (f.default !== null) input[f.name] = f.default;
      await this.services.valuation.value('champion', input, form.defaultValuationDate ? { valuationDate: form.defaultValuationDate } : {});
    } catch {
      // Warming is an optimisation only.
    }
  }

  /** Subscribes to job events; returns the unsubscribe. */
  onEvent(listener: (e: ApiEvent) => void): () => void {
    return this.jobs.onEvent(listener);
  }

  /** Cancels running jobs and ends their threads. The services stay owned (and closed) by whoever opened them. */
  async close(): Promise<void> {
    this.jobs.close();
    await this.workers?.close();
  }

  /**
   * Starts a job: in a worker thread when workers are on (the request), else on this thread (the fallback).
   * The result is checked against the job contract when outputs are validated.
   */
  private startJob(
    method: 'datasets.ingest' | 'train' | 'score',
    request: JobRequest,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- progress shapes differ per job; the contract describes them
    fallback: (job: { signal: AbortSignal; onProgress: (p: any) => void }) => Promise<unknown>,
  ): { jobId: string } {
    const info = this.jobs.start<unknown, unknown>(method, async ({ signal, onProgress }) => {
      let result: unknown;
      if (signal.aborted) throw new AppraiseError('CANCELLED', `${method} cancelled before it started; nothing was done`);
      if (this.workers) {
        const handle = this.workers.start(request, onProgress);
        const onAbort = () => handle.cancel();
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          result = await handle.result;
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
      } else result = await fallback({ signal, onProgress });
      if (this.validateOutput) {
        const checked = jobContract[method].result.safeParse(result);
        if (!checked.success) throw new AppraiseError('INTERNAL', `the ${method} job result does not match the API contract (a bug)`, { details: { issues: issuesOf(checked.error) } });
      }
      return result;
    });
    return { jobId: info.jobId };
  }

  private need<K extends 'models' | 'training' | 'valuation'>(key: K): NonNullable<ApiServices[K]> {
    const s = this.services[key];
    if (!s) throw new AppraiseError('NOT_FOUND', `the ${key} service is not available in this build of Appraise`);
    return s as NonNullable<ApiServices[K]>;
  }

  /** The dataset whose schema the valuation form follows: the champion's training data, else the newest dataset. */
  private activeDataset(): DatasetVersion | null {
    const models = this.services.models;
    if (models) {
      const champion = models.list().find((m) => m.status === 'champion');
      if (champion?.datasetId) {
        try {
          return this.services.datasets.get(champion.datasetId);
        } catch (e) {
          if (!(e instanceof AppraiseError && e.code === 'NOT_FOUND')) throw e;
        }
      }
    }
    const newest = this.services.datasets.store.list()[0];
    return newest ?? null;
  }

  private activeForm(): FormSchema | null {
    const ds = this.activeDataset();
    return ds ? buildFormSchema(ds) : null;
  }

  private buildHandlers(): Handlers {
    const s = this.services;
    return {
      'app.info': () => ({
        version: APPRAISE_VERSION,
        workspace: s.workspace.dir,
        champion: s.models?.list().find((m) => m.status === 'champion') ?? null,
        form: this.activeForm(),
        demo: this.options.demo ?? null,
        services: { models: Boolean(s.models), training: Boolean(s.training), valuation: Boolean(s.valuation) },
      }),
      'form.validate': ({ input }) => {
        const ds = this.activeDataset();
        if (!ds) throw new AppraiseError('NOT_FOUND', 'this workspace has no dataset yet, so there is no schema to check against; import one first');
        const skip = [ds.config.target.column, ...(ds.config.features.saleDate ? [ds.config.features.saleDate] : [])];
        const r = validateProperty(ds.config, input, { skip });
        return r.ok ? { ok: true, errors: [] } : { ok: false, errors: r.errors };
      },
      'datasets.list': () => s.datasets.list(),
      'datasets.get': ({ ref }) => {
        const d = s.datasets.get(ref);
        return { ...summarize(d), columnsDetail: d.columns, parentId: d.parentId, quality: d.quality };
      },
      'datasets.delete': ({ ref }) => s.datasets.delete(ref),
      'datasets.quarantine': ({ ref, limit, offset }) => s.datasets.quarantine(ref, limit, offset),
      'datasets.quality': ({ ref }) => s.datasets.get(ref).quality,
      'datasets.ingest': ({ file, config, name }) =>
        this.startJob('datasets.ingest', { kind: 'ingest', file, config, name }, async ({ signal, onProgress }) => {
          const { quality: _quality, ...rest } = await s.datasets.ingest({ file, config, name, signal, onProgress });
          return rest;
        }),
      'models.list': () => this.need('models').list(),
      'models.manifest': ({ ref }) => this.need('models').manifest(ref),
      'models.promote': ({ ref }) => this.need('models').promote(ref),
      'models.rollback': () => this.need('models').rollback(),
      'models.archive': ({ ref }) => this.need('models').archive(ref),
      'models.export': ({ ref, dir }) => this.need('models').exportTo(ref, dir),
      'models.import': ({ onnx, manifest }) => this.need('models').importFrom(onnx, manifest),
      train: (req) => {
        const training = this.need('training');
        return this.startJob('train', { kind: 'train', request: req }, ({ signal, onProgress }) => training.train(req, { signal, onProgress }));
      },
      value: ({ model, input, valuationDate }) => this.need('valuation').value(model, input, valuationDate ? { valuationDate } : {}),
      score: ({ model, source, out, columnMap }) => {
        const valuation = this.need('valuation');
        return this.startJob('score', { kind: 'score', model, source, out, columnMap }, ({ signal, onProgress }) => valuation.score(model, source, out, { signal, onProgress }, { columnMap }));
      },
      'batch.inspect': ({ source, columnMap }) => {
        const ds = this.activeDataset();
        if (!ds) throw new AppraiseError('NOT_FOUND', 'this workspace has no dataset yet, so there is no schema to match the file to; import one first');
        return inspectBatchFile(ds.config, source, columnMap);
      },
      'jobs.get': ({ jobId }) => this.jobs.get(jobId),
      'jobs.list': () => this.jobs.list(),
      'jobs.cancel': ({ jobId }) => this.jobs.cancel(jobId),
      'history.list': () => this.history.list(),
      'history.save': ({ label, valuation }) => this.history.save(label, valuation),
      'history.delete': ({ id }) => ({ deleted: this.history.delete(id) }),
    };
  }
}

function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(input)', message: i.message }));
}

function invalidInputFrom(method: string, error: z.ZodError): AppraiseError {
  const issues = issuesOf(error);
  const text = issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`).join('; ');
  return new AppraiseError('INVALID_INPUT', `invalid input for ${method}: ${text}${issues.length > 5 ? ` (and ${issues.length - 5} more)` : ''}`, {
    details: { method, issues },
  });
}
