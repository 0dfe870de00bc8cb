import type { z } from 'zod';
import { AppraiseError } from '../common/errors.js';
import { APPRAISE_VERSION } from '../common/version.js';
import { validateProperty } from '../schema/row-validator.js';
import { summarize, type DatasetServiceApi } from '../services/dataset-service.js';
import type { ModelServiceApi } from '../models/model-service.js';
import type { TrainingServiceApi } from '../training/training-service.js';
import type { ValuationServiceApi } from '../valuation/valuation-service.js';
import type { ValuationHistory } from '../valuation/valuation-history.js';
import type { MonitoringServiceApi } from '../monitoring/monitoring-service.js';
import type { MarketServiceApi } from '../training/market-service.js';
import type { SyncServiceApi } from '../sync/sync-service.js';
import type { ReportSettingsApi } from '../valuation/report-settings.js';
import type { DatasetVersion } from '../datasets/dataset-store.js';
import { buildFormSchema, type FormSchema } from '../valuation/valuation-form.js';
import { inspectBatchFile } from '../valuation/batch-inspect.js';
import {
  contract,
  jobContract,
  isMethodName,
  type ApiEvent,
  type JobMethodName,
  type JobProgress,
  type JobResult,
  type MethodInput,
  type MethodName,
  type MethodOutput,
  type ParsedInput,
} from '../contract/contract.js';
import { errorResponse, okResponse, type ApiResponse } from '../contract/api-response.js';
import { assertRoleAllows, type Role } from '../contract/roles.js';
import type { JobTracker } from '../jobs/job-tracker.js';
import type { JobRunner } from '../jobs/job-runner.js';
import { jobHandlers, type JobHandler } from '../jobs/job-handlers.js';
import type { Logger } from 'pino';
import { logError } from '../logging/log-error.js';
import { recentErrors } from '../logging/log-reader.js';
import { logsDir } from '../logging/log-record.js';
import { randomUUID } from 'node:crypto';
import type { AuditTrail } from '../audit/audit-trail.js';
import type { SessionLock } from './session-lock.js';
import type { SessionStatus } from '../contract/session-schemas.js';

/**
 * What the dispatcher calls. Model, training and valuation services are optional so a build without them still
 * serves datasets; their methods then answer NOT_FOUND with a message saying so.
 */
export interface ApiServices {
  workspaceDir: string;
  datasets: DatasetServiceApi;
  history: ValuationHistory;
  models?: ModelServiceApi;
  training?: TrainingServiceApi;
  valuation?: ValuationServiceApi;
  monitoring?: MonitoringServiceApi;
  market?: MarketServiceApi;
  sync?: SyncServiceApi;
  /** The workspace's report settings (`settings.report`, `settings.setReport`). */
  settings?: ReportSettingsApi;
}

export interface DispatcherOptions {
  services: ApiServices;
  /** Ids, states and events of jobs. Owned (and closed) by the composition root. */
  jobs: JobTracker;
  /** Runs jobs in worker threads; null runs them on this thread through the services (for fakes in tests). */
  runner: JobRunner | null;
  /** Validate every output against the contract (a mismatch is an INTERNAL error). */
  validateOutput: boolean;
  /** The bundled demo data, offered on first run. */
  demo?: { csv: string; config: string } | null;
  /** Where failed calls are logged (once, with the method and a request id); none: not logged. */
  logger?: Logger;
  role?: Role; // the session's role (core/contract/roles.ts), checked on every call before its input; none: analyst
  /** Where refused calls (wrong role) are recorded; none: not recorded. */
  audit?: AuditTrail;
  /** The session's idle lock, checked before the role on every call; none: the session never locks. */
  lock?: SessionLock | null;
}

type ImmediateMethod = Exclude<MethodName, JobMethodName>;
type Handler<M extends ImmediateMethod> = (input: ParsedInput<M>) => Promise<MethodOutput<M>> | MethodOutput<M>;

/** The services a contract method can be bound to by its name. */
type NamedServices = Omit<ApiServices, 'workspaceDir'>;
type NamespaceOf<M> = M extends `${infer N}.${string}` ? N : never;
type FunctionOf<M> = M extends `${string}.${infer F}` ? F : never;
type ServiceOf<M> = NamespaceOf<M> extends keyof NamedServices ? NonNullable<NamedServices[NamespaceOf<M>]> : never;
/**
 * True when `services.<ns>.<name>` takes exactly the contract's parsed input (or nothing) and returns its output.
 * Checked through Parameters/ReturnType rather than assignability of the method itself, because TypeScript
 * compares method parameters bivariantly: a service needing a field the contract leaves optional would pass.
 */
type Fits<M extends ImmediateMethod, F> = F extends (...args: infer A) => infer R
  ? [Awaited<R>] extends [MethodOutput<M>]
    ? A extends []
      ? true
      : A extends [(infer P)?]
        ? [ParsedInput<M>] extends [P]
          ? true
          : false
        : false
    : false
  : false;
/** Methods named `<ns>.<name>` whose service method of that name fits: the dispatcher calls them by name. */
type BoundByName = {
  [M in ImmediateMethod]: FunctionOf<M> extends keyof ServiceOf<M> ? (Fits<M, ServiceOf<M>[FunctionOf<M>]> extends true ? M : never) : never;
}[ImmediateMethod];
/**
 * Every other immediate method needs a handler here (a missing one is a compile error): the ones that compose
 * several services, or whose service method has positional arguments.
 */
type Handlers = { [M in Exclude<ImmediateMethod, BoundByName>]: Handler<M> } & { [M in BoundByName]?: Handler<M> };

const isJobMethod = (m: MethodName): m is JobMethodName => Object.prototype.hasOwnProperty.call(jobContract, m);

/**
 * The one place where API calls meet core/: validates the input against the contract (malformed input is an
 * INVALID_INPUT error listing the field paths, never a crash), calls the services, validates the output when
 * asked, and runs the contract's job methods as jobs. Both transports — Electron IPC and the web host — call
 * `callSafe()` and subscribe with `onEvent()`; errors leave as `SerializedError` and are matched by `code`.
 */
export class ApiDispatcher {
  private readonly handlers: Handlers;
  private readonly services: ApiServices;

  constructor(private readonly options: DispatcherOptions) {
    this.services = options.services;
    this.handlers = this.buildHandlers();
  }

  /** Calls a method by name with untrusted input; resolves with the output or rejects with an AppraiseError. */
  async call(method: string, input: unknown): Promise<unknown> {
    if (typeof method !== 'string' || !isMethodName(method)) {
      throw new AppraiseError('NOT_FOUND', `unknown API method "${String(method).slice(0, 80)}"`, { details: { method: String(method).slice(0, 80) } });
    }
    this.options.lock?.admit(method);
    try {
      assertRoleAllows(this.options.role, method);
    } catch (e) {
      // A refusal is consequential too: who tried what, recorded before the input is even read (issue 14, #5).
      try {
        this.options.audit?.record({ action: 'api.refused', ids: { method }, outcome: 'refused', detail: `FORBIDDEN: needs the analyst role` });
      } catch {
        // The refusal is what the caller must see.
      }
      throw e;
    }
    const spec = contract[method];
    const parsed = spec.input.safeParse(input ?? {});
    if (!parsed.success) throw invalidInputFrom(method, parsed.error);
    let output: unknown;
    try {
      output = isJobMethod(method) ? this.startJob(method, parsed.data as ParsedInput<typeof method>) : await this.handlerFor(method)(parsed.data);
    } catch (e) {
      throw e instanceof AppraiseError ? e : new AppraiseError('INTERNAL', e instanceof Error ? e.message : String(e), { cause: e });
    }
    if (this.options.validateOutput) this.check(spec.output, output, `the ${method} result`);
    return output;
  }

  /** Same as `call` but never rejects: the envelope every transport sends over the wire. */
  async callSafe(method: string, input: unknown): Promise<ApiResponse> {
    try {
      return okResponse(await this.call(method, input));
    } catch (e) {
      // Input mistakes are the caller's to fix and are answered in words; bugs and failures are logged too.
      // A locked session's refusals are expected (the page polls until unlocked): not logged either.
      if (this.options.logger && !(e instanceof AppraiseError && (e.code === 'INVALID_INPUT' || e.code === 'LOCKED'))) {
        logError(this.options.logger, e, { requestId: randomUUID(), method: String(method).slice(0, 80) }, 'API call failed');
      }
      return errorResponse(e);
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
      // The warm-up is not an appraiser's valuation: it stays out of the prediction log.
      await this.services.valuation.value('champion', input, {
        log: false,
        ...(form.defaultValuationDate ? { valuationDate: form.defaultValuationDate } : {}),
      });
    } catch {
      // Warming is an optimisation only.
    }
  }

  /** Subscribes to job events; returns the unsubscribe. */
  onEvent(listener: (e: ApiEvent) => void): () => void {
    return this.options.jobs.onEvent(listener);
  }

  /**
   * Starts a job for this process itself, not for a session (the periodic monitoring check starts the retraining
   * job): the input is validated against the contract, but no session role applies.
   */
  startOwnJob<M extends JobMethodName>(method: M, input: MethodInput<M>): { jobId: string } {
    const parsed = contract[method].input.safeParse(input);
    if (!parsed.success) throw invalidInputFrom(method, parsed.error);
    return this.startJob(method, parsed.data as ParsedInput<M>);
  }

  /** Starts a job of the contract: in a worker thread when there is a runner, else on this thread. */
  private startJob<M extends JobMethodName>(method: M, input: ParsedInput<M>): { jobId: string } {
    const { runner, services } = this.options;
    const handler = jobHandlers[method] as JobHandler<M>;
    const running = handler.single ? this.options.jobs.list().find((j) => j.method === method && j.state === 'running') : undefined;
    if (running)
      throw new AppraiseError(
        'CONFLICT',
        `a ${method} job is already running (started ${running.startedAt.slice(0, 19)}); wait for it to finish or cancel it`,
        {
          details: { jobId: running.jobId },
        },
      );
    const info = this.options.jobs.start<JobProgress<M>, JobResult<M>>(method, async ({ jobId, signal, onProgress }) => {
      if (signal.aborted) throw new AppraiseError('CANCELLED', `${method} cancelled before it started; nothing was done`);
      await handler.beforeStart?.(services);
      if (signal.aborted) throw new AppraiseError('CANCELLED', `${method} cancelled before it started; nothing was done`);
      const result = runner
        ? await runner.run(jobId, { method, input }, { signal, onProgress })
        : await handler.run(services, input, { signal, onProgress, jobId });
      if (this.options.validateOutput) this.check(jobContract[method].result, result, `the ${method} job result`);
      return result;
    });
    return { jobId: info.jobId };
  }

  /**
   * The method's handler: an explicit one from `buildHandlers()`, else the service method of the same name —
   * `models.list` calls `services.models.list(input)`. The types above guarantee that such a method exists and
   * fits whenever its service is present; an optional service that is absent answers NOT_FOUND.
   */
  private handlerFor(method: ImmediateMethod): (input: unknown) => unknown {
    const explicit = (this.handlers as Partial<Record<ImmediateMethod, (input: unknown) => unknown>>)[method];
    if (explicit) return explicit;
    const dot = method.indexOf('.');
    const unbound = () => new AppraiseError('INTERNAL', `no handler for ${method} (a bug: the contract and the services disagree)`);
    if (dot < 0) throw unbound();
    const namespace = method.slice(0, dot) as keyof NamedServices;
    const service = this.services[namespace] as unknown as Record<string, unknown> | undefined;
    if (!service) throw new AppraiseError('NOT_FOUND', `the ${namespace} service is not available in this build of Appraise`);
    const fn = service[method.slice(dot + 1)];
    if (typeof fn !== 'function') throw unbound();
    return (input) => (fn as (i: unknown) => unknown).call(service, input);
  }

  private check(schema: z.ZodType, value: unknown, what: string): void {
    const checked = schema.safeParse(value);
    if (!checked.success)
      throw new AppraiseError('INTERNAL', `${what} does not match the API contract (a bug)`, { details: { issues: issuesOf(checked.error) } });
  }

  private need<K extends 'models' | 'training' | 'valuation' | 'monitoring' | 'settings'>(key: K): NonNullable<ApiServices[K]> {
    const s = this.services[key];
    if (!s) throw new AppraiseError('NOT_FOUND', `the ${key} service is not available in this build of Appraise`);
    return s as NonNullable<ApiServices[K]>;
  }

  /** The dataset whose schema the valuation form follows: the champion's training data, else the newest dataset. */
  private activeDataset(): DatasetVersion | null {
    const champion = this.services.models?.list().find((m) => m.status === 'champion');
    if (champion?.datasetId) {
      try {
        return this.services.datasets.get(champion.datasetId);
      } catch (e) {
        if (!(e instanceof AppraiseError && e.code === 'NOT_FOUND')) throw e;
      }
    }
    return this.services.datasets.newest();
  }

  private sessionStatus(): SessionStatus {
    return this.options.lock?.status() ?? { locked: false, lockedAt: null, idleTimeoutMs: null };
  }

  private activeForm(): FormSchema | null {
    const ds = this.activeDataset();
    return ds ? buildFormSchema(ds) : null;
  }

  private buildHandlers(): Handlers {
    const s = this.services;
    const jobs = this.options.jobs;
    return {
      'app.info': () => ({
        version: APPRAISE_VERSION,
        workspace: s.workspaceDir,
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
      'datasets.get': ({ ref }) => {
        const d = s.datasets.get(ref);
        return { ...summarize(d), columnsDetail: d.columns, parentId: d.parentId, quality: d.quality };
      },
      'datasets.delete': ({ ref }) => s.datasets.delete(ref),
      'datasets.quarantine': ({ ref, limit, offset }) => s.datasets.quarantine(ref, limit, offset),
      'datasets.quality': ({ ref }) => s.datasets.get(ref).quality,
      'models.manifest': ({ ref }) => this.need('models').manifest(ref),
      'models.archive': ({ ref }) => this.need('models').archive(ref),
      'models.export': ({ ref, dir }) => this.need('models').exportTo(ref, dir),
      'models.import': ({ onnx, manifest }) => this.need('models').importFrom(onnx, manifest),
      value: ({ model, input, valuationDate, grid }) => this.need('valuation').value(model, input, { ...(valuationDate ? { valuationDate } : {}), grid }),
      'batch.inspect': ({ source, columnMap }) => {
        const ds = this.activeDataset();
        if (!ds) throw new AppraiseError('NOT_FOUND', 'this workspace has no dataset yet, so there is no schema to match the file to; import one first');
        return inspectBatchFile(ds.config, source, columnMap);
      },
      'jobs.get': ({ jobId }) => jobs.get(jobId),
      'jobs.list': () => jobs.list(),
      'jobs.cancel': ({ jobId }) => jobs.cancel(jobId),
      'logs.recent': ({ limit }) => recentErrors(logsDir(s.workspaceDir), limit),
      'history.list': () => s.history.list(),
      'history.save': ({ label, valuation }) => s.history.save(label, valuation),
      'history.delete': ({ id }) => ({ deleted: s.history.delete(id) }),
      'monitoring.recordSale': ({ predictionId, price, saleDate }) => this.need('monitoring').recordSale(predictionId, price, saleDate ?? null),
      'monitoring.retrainingRuns': ({ limit }) => this.need('monitoring').retrainingRuns(limit),
      'reports.settings': () => this.need('settings').report(),
      'session.status': () => this.sessionStatus(),
      'session.lock': () => {
        if (!this.options.lock) {
          throw new AppraiseError(
            'CONFLICT',
            'this Appraise has no idle lock, so nothing could unlock it; start it with an idle lock (appraise serve --idle-lock MINUTES)',
          );
        }
        return this.options.lock.lock();
      },
      'session.unlock': ({ passphrase }) => this.options.lock?.unlock(passphrase) ?? this.sessionStatus(),
    };
  }
}

/**
 * Field paths and messages of an input error, each cut short: zod quotes unknown keys and bad values in full, and a
 * caller's 5,000-character key must not come back (or reach the log) whole (issue 14, finding 5).
 */
function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: cut(i.path.map((p) => cut(String(p), 40)).join('.'), 160) || '(input)', message: cut(i.message, 200) }));
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

function invalidInputFrom(method: string, error: z.ZodError): AppraiseError {
  const issues = issuesOf(error);
  const text = issues
    .slice(0, 5)
    .map((i) => `${i.path}: ${i.message}`)
    .join('; ');
  return new AppraiseError('INVALID_INPUT', `invalid input for ${method}: ${text}${issues.length > 5 ? ` (and ${issues.length - 5} more)` : ''}`, {
    details: { method, issues },
  });
}
