import type { ApiEvent, JobInfo, JobMethodName, JobProgress, JobResult, MethodInput, MethodName, MethodOutput } from '../../../core/contract/contract.js';
import { ApiCallError } from '../api-error.js';

/** `idle`: nothing started (or reset); the other states follow the host's job of that method. */
export type JobState = 'idle' | 'running' | 'done' | 'failed' | 'cancelled';

/** What the app knows about the latest job of one method. Snapshots are immutable: a change makes a new one. */
export interface JobSnapshot<M extends JobMethodName> {
  state: JobState;
  /** The host's id; null when idle and while the start request is on its way. */
  jobId: string | null;
  /** What it was started with; null for a job picked up from the host (after a page reload). */
  input: MethodInput<M> | null;
  /** The latest progress report; kept after the job ends. */
  progress: JobProgress<M> | null;
  /**
   * Every distinct progress report of this job, oldest first (at most the last MAX_PROGRESS_LOG), for curves
   * that must survive leaving the screen. A job picked up after a page reload starts from the host's latest.
   */
  progressLog: readonly JobProgress<M>[];
  result: JobResult<M> | null;
  /** Why it failed (or could not start). Null when cancelled: cancelling is not an error. */
  error: ApiCallError | null;
}

/** The part of the API client the store uses (the real one is `api` from api-client.ts). */
export interface JobApi {
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>>;
  onEvent(listener: (e: ApiEvent) => void): () => void;
}

export const MAX_PROGRESS_LOG = 5000;
/** Events for job ids no slot has claimed yet are kept for this many jobs (a start reply can trail its events). */
const MAX_UNCLAIMED = 20;
const JOB_METHODS = {
  'app.loadDemo': true,
  'datasets.ingest': true,
  train: true,
  score: true,
  'monitoring.retrain': true,
} satisfies Record<JobMethodName, true>;
const isJobMethod = (m: string): m is JobMethodName => Object.prototype.hasOwnProperty.call(JOB_METHODS, m);

// Snapshots of different methods share this map; each entry's type follows its key (see get()).
type AnySnapshot = JobSnapshot<JobMethodName>;

function idle<M extends JobMethodName>(): JobSnapshot<M> {
  return { state: 'idle', jobId: null, input: null, progress: null, progressLog: [], result: null, error: null };
}

function toApiError(e: unknown): ApiCallError {
  if (e instanceof ApiCallError) return e;
  return new ApiCallError('INTERNAL', e instanceof Error ? e.message : String(e));
}

/**
 * The app's long-running work, one slot per job method (one import, one training, one batch at a time), kept
 * above the screens so a screen can be left and reopened without losing a running job, its progress log or its
 * result. Fed by the API's job events, by `jobs.get` polling while a job runs (events can be missed while the
 * event stream reconnects) and, on `connect()`, by `jobs.list`, which picks up jobs still running on the host
 * after a page reload.
 *
 * The owner calls `connect()` once and its returned disconnect when done; `subscribe` listeners fire after
 * every change (the shape `useSyncExternalStore` wants).
 */
export class JobStore {
  private readonly slots = new Map<JobMethodName, AnySnapshot>();
  private readonly listeners = new Set<() => void>();
  private readonly finishedListeners = new Set<(method: JobMethodName, snapshot: AnySnapshot) => void>();
  private readonly unclaimed = new Map<string, JobInfo>();
  private readonly cancelWanted = new Set<JobMethodName>();
  private poll: ReturnType<typeof setInterval> | null = null;
  private polling = false;
  private connected = 0;

  constructor(
    private readonly api: JobApi,
    private readonly pollMs = 1500,
  ) {}

  /** Starts following the host's jobs; returns the disconnect. Safe to call again after disconnecting. */
  connect(): () => void {
    this.connected++;
    const off = this.api.onEvent((e) => {
      if (e.type === 'job') this.onJob(e.job);
    });
    void this.api.call('jobs.list', {}).then(
      (jobs) => {
        // The newest running job of each method, e.g. a training started before the page was reloaded.
        const running = jobs.filter((j) => j.state === 'running').sort((a, b) => a.startedAt.localeCompare(b.startedAt));
        for (const j of running) if (isJobMethod(j.method) && this.get(j.method).state !== 'running') this.adopt(j.method, j);
      },
      () => undefined,
    );
    if ([...this.slots.values()].some((s) => s.state === 'running' && s.jobId !== null)) this.ensurePolling();
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      off();
      if (--this.connected === 0) this.stopPolling();
    };
  }

  /** Listener for any change; returns the unsubscribe. A stable function, usable as `useSyncExternalStore`'s. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Called once when a job of any method leaves `running` (done, failed or cancelled); returns the unsubscribe. */
  onFinished(listener: (method: JobMethodName, snapshot: AnySnapshot) => void): () => void {
    this.finishedListeners.add(listener);
    return () => this.finishedListeners.delete(listener);
  }

  /** The current snapshot of a method: the same object until something changes. */
  get<M extends JobMethodName>(method: M): JobSnapshot<M> {
    let s = this.slots.get(method);
    if (!s) {
      s = idle();
      this.slots.set(method, s);
    }
    return s as unknown as JobSnapshot<M>;
  }

  /**
   * Starts a job; the promise settles once the host has taken it (or refused it: then the state is `failed`).
   * Does nothing while a job of the same method runs: one at a time per method.
   */
  async start<M extends JobMethodName>(method: M, input: MethodInput<M>): Promise<void> {
    if (this.get(method).state === 'running') return;
    this.set(method, { ...idle<M>(), state: 'running', input });
    let jobId: string;
    try {
      ({ jobId } = (await this.api.call(method, input)) as { jobId: string });
    } catch (e) {
      this.cancelWanted.delete(method);
      this.settle(method, { ...this.get(method), state: 'failed', error: toApiError(e) });
      return;
    }
    this.set(method, { ...this.get(method), jobId });
    const early = this.unclaimed.get(jobId);
    this.unclaimed.delete(jobId);
    if (early) this.apply(method, early);
    this.ensurePolling();
    if (this.cancelWanted.delete(method)) await this.cancel(method);
  }

  /** Asks the host to cancel the running job of a method (also one still starting); the state follows its event. */
  async cancel(method: JobMethodName): Promise<void> {
    const s = this.get(method);
    if (s.state !== 'running') return;
    if (s.jobId === null) {
      this.cancelWanted.add(method);
      return;
    }
    try {
      this.onJob(await this.api.call('jobs.cancel', { jobId: s.jobId }));
    } catch (e) {
      this.lost(method, s.jobId, e);
    }
  }

  /** Forgets a finished job of a method (back to `idle`); does nothing while one runs. */
  reset(method: JobMethodName): void {
    if (this.get(method).state === 'running') return;
    this.set(method, idle());
  }

  private onJob(job: JobInfo): void {
    if (!isJobMethod(job.method)) return;
    const method = job.method;
    const s = this.get(method);
    if (s.jobId === job.jobId) this.apply(method, job);
    else if (s.state === 'running' && s.jobId === null) this.remember(job);
    // Someone else's job (another window of the same host): show it, unless this window runs its own.
    else if (job.state === 'running' && s.state !== 'running') this.adopt(method, job);
  }

  private adopt(method: JobMethodName, job: JobInfo): void {
    this.set(method, { ...idle(), state: 'running', jobId: job.jobId });
    this.apply(method, job);
    this.ensurePolling();
  }

  /** Folds the host's view of a job into its slot. A finished job stays finished (a late poll changes nothing). */
  private apply<M extends JobMethodName>(method: M, job: JobInfo): void {
    const s = this.get(method);
    if (s.state !== 'running' || s.jobId !== job.jobId) return;
    const reported = (job.progress ?? null) as JobProgress<M> | null;
    // The same report comes from an event and a poll: only a new one changes the snapshot.
    const fresh = reported !== null && !sameProgress(s.progress, reported);
    const next: JobSnapshot<M> = fresh
      ? {
          ...s,
          progress: reported,
          progressLog: [...(s.progressLog.length >= MAX_PROGRESS_LOG ? s.progressLog.slice(1 - MAX_PROGRESS_LOG) : s.progressLog), reported],
        }
      : s;
    switch (job.state) {
      case 'running':
        if (fresh) this.set(method, next);
        return;
      case 'done':
        this.settle(method, { ...next, state: 'done', result: job.result as JobResult<M> });
        return;
      case 'cancelled':
        this.settle(method, { ...next, state: 'cancelled' });
        return;
      case 'failed': {
        const err = job.error ?? { code: 'INTERNAL', message: 'the job failed without saying why' };
        this.settle(method, { ...next, state: 'failed', error: new ApiCallError(err.code, err.message, 'details' in err ? err.details : undefined) });
        return;
      }
    }
  }

  /** The host no longer knows the job (it restarted): the job is over, and failed. */
  private lost(method: JobMethodName, jobId: string, e: unknown): void {
    const s = this.get(method);
    if (s.state !== 'running' || s.jobId !== jobId) return;
    if (e instanceof ApiCallError && e.code === 'NOT_FOUND') this.settle(method, { ...s, state: 'failed', error: e });
  }

  private remember(job: JobInfo): void {
    this.unclaimed.delete(job.jobId);
    this.unclaimed.set(job.jobId, job);
    while (this.unclaimed.size > MAX_UNCLAIMED) this.unclaimed.delete(this.unclaimed.keys().next().value!);
  }

  private settle<M extends JobMethodName>(method: M, snapshot: JobSnapshot<M>): void {
    this.set(method, snapshot);
    for (const l of this.finishedListeners) l(method, snapshot as unknown as AnySnapshot);
  }

  private set<M extends JobMethodName>(method: M, snapshot: JobSnapshot<M>): void {
    this.slots.set(method, snapshot as unknown as AnySnapshot);
    if (![...this.slots.values()].some((s) => s.state === 'running')) this.stopPolling();
    for (const l of this.listeners) l();
  }

  /** Polls `jobs.get` while a job runs: catches a job that ended while the event stream was reconnecting. */
  private ensurePolling(): void {
    if (this.poll !== null || this.connected === 0) return;
    this.poll = setInterval(() => void this.pollOnce(), this.pollMs);
  }

  private stopPolling(): void {
    if (this.poll !== null) clearInterval(this.poll);
    this.poll = null;
  }

  private async pollOnce(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const running = [...this.slots.entries()].filter(([, s]) => s.state === 'running' && s.jobId !== null);
      await Promise.all(
        running.map(([method, s]) =>
          this.api.call('jobs.get', { jobId: s.jobId! }).then(
            (job) => this.onJob(job),
            (e: unknown) => this.lost(method, s.jobId!, e),
          ),
        ),
      );
    } finally {
      this.polling = false;
    }
  }
}

/** Progress reports are small flat objects, compared by value. */
function sameProgress(a: unknown, b: unknown): boolean {
  return a !== null && JSON.stringify(a) === JSON.stringify(b);
}
