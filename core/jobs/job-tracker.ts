import { randomUUID } from 'node:crypto';
import { AppraiseError, deserializeError, notFound, serializeError } from '../common/errors.js';
import type { JobEvent } from '../contract/contract.js';
import type { JobInfo } from '../contract/job-schemas.js';
import type { Logger } from 'pino';
import { logError } from '../logging/log-error.js';

const KEEP_FINISHED = 50;
/** Progress events are coalesced to at most one per job per this many ms (the last one always goes out). */
const PROGRESS_INTERVAL_MS = 100;

interface JobRecord {
  info: JobInfo;
  controller: AbortController;
  lastEmit: number;
  pending: ReturnType<typeof setTimeout> | null;
}

/**
 * Tracks long work (ingest, training, batch scoring) as jobs with ids: progress and the final state go out as
 * events to every listener; `cancel` aborts the job's AbortSignal, after which the work throws CANCELLED.
 * The runner owns its jobs' AbortControllers; `close()` cancels whatever still runs.
 */
export class JobTracker {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly listeners = new Set<(e: JobEvent) => void>();

  /** Every job's start and end are logged with its id, method and outcome. */
  constructor(private readonly logger?: Logger) {}

  /** Subscribes to job events; returns the unsubscribe. */
  onEvent(listener: (e: JobEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start<P, R>(method: string, work: (job: { jobId: string; signal: AbortSignal; onProgress: (p: P) => void }) => Promise<R>): JobInfo {
    const jobId = randomUUID();
    const rec: JobRecord = {
      info: { jobId, method, state: 'running', startedAt: new Date().toISOString(), finishedAt: null, progress: null, result: null, error: null },
      controller: new AbortController(),
      lastEmit: 0,
      pending: null,
    };
    this.jobs.set(jobId, rec);
    this.logger?.info({ jobId, method }, 'job started');
    this.prune();
    const onProgress = (p: P) => {
      if (rec.info.state !== 'running') return;
      rec.info = { ...rec.info, progress: p };
      const now = Date.now();
      if (now - rec.lastEmit >= PROGRESS_INTERVAL_MS) {
        rec.lastEmit = now;
        this.emit(rec);
      } else {
        rec.pending ??= setTimeout(() => {
          rec.pending = null;
          rec.lastEmit = Date.now();
          if (rec.info.state === 'running') this.emit(rec);
        }, PROGRESS_INTERVAL_MS);
      }
    };
    // Start on the next tick so the caller has the job id before the first event.
    setImmediate(() => {
      work({ jobId, signal: rec.controller.signal, onProgress }).then(
        // Work that completed despite a late cancel is done: its result exists (say, a stored dataset).
        (result) => this.finish(rec, 'done', result, null),
        (e: unknown) => {
          const err = serializeError(e);
          const cancelled = err.code === 'CANCELLED' || rec.controller.signal.aborted;
          this.finish(rec, cancelled ? 'cancelled' : 'failed', null, cancelled ? { ...err, code: 'CANCELLED' } : err);
        },
      );
    });
    this.emit(rec);
    return rec.info;
  }

  get(jobId: string): JobInfo {
    const rec = this.jobs.get(jobId);
    if (!rec) throw notFound(`no job ${jobId} (finished jobs are kept for the last ${KEEP_FINISHED})`);
    return rec.info;
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((r) => r.info);
  }

  cancel(jobId: string): JobInfo {
    const rec = this.jobs.get(jobId);
    if (!rec) throw notFound(`no job ${jobId}`);
    if (rec.info.state === 'running') rec.controller.abort(new AppraiseError('CANCELLED', 'cancelled by the user'));
    return rec.info;
  }

  close(): void {
    for (const rec of this.jobs.values()) {
      if (rec.info.state === 'running') rec.controller.abort(new AppraiseError('CANCELLED', 'the application is shutting down'));
      if (rec.pending) clearTimeout(rec.pending);
    }
    this.listeners.clear();
  }

  private finish(rec: JobRecord, state: JobInfo['state'], result: unknown, error: JobInfo['error']): void {
    if (rec.pending) clearTimeout(rec.pending);
    rec.pending = null;
    rec.info = { ...rec.info, state, result: result ?? null, error, finishedAt: new Date().toISOString() };
    const seconds = (Date.parse(rec.info.finishedAt!) - Date.parse(rec.info.startedAt)) / 1000;
    if (state === 'failed' && this.logger)
      logError(this.logger, deserializeError(error), { jobId: rec.info.jobId, method: rec.info.method, seconds }, 'job failed');
    else this.logger?.info({ jobId: rec.info.jobId, method: rec.info.method, state, seconds }, `job ${state}`);
    this.emit(rec);
  }

  private emit(rec: JobRecord): void {
    const event: JobEvent = { type: 'job', job: rec.info };
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A failing listener (closed connection) must not stop the job or the other listeners.
      }
    }
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((r) => r.info.state !== 'running');
    for (const r of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(r.info.jobId);
  }
}
