import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ApiEvent, JobInfo } from '../../../core/contract/contract.js';
import { ApiCallError } from '../api-error.js';
import { JobStore, type JobApi } from './job-store.js';

/** The host's side of jobs, in memory: starts answer with an id after the first event, as the real host does. */
class FakeHost implements JobApi {
  readonly listeners = new Set<(e: ApiEvent) => void>();
  readonly jobs = new Map<string, JobInfo>();
  /** Events are not delivered while false (the event stream is reconnecting). */
  streaming = true;
  refuseStarts: ApiCallError | null = null;
  private n = 0;

  async call(method: string, input: unknown): Promise<never> {
    const jobId = (input as { jobId?: string }).jobId ?? '';
    switch (method) {
      case 'jobs.list':
        return [...this.jobs.values()] as never;
      case 'jobs.get': {
        const job = this.jobs.get(jobId);
        if (!job) throw new ApiCallError('NOT_FOUND', `no job ${jobId}`);
        return job as never;
      }
      case 'jobs.cancel': {
        const job = this.jobs.get(jobId)!;
        // The host cancels asynchronously: the reply still says running, the event follows.
        setTimeout(() => this.update(jobId, { state: 'cancelled', error: { name: 'AppraiseError', code: 'CANCELLED', message: 'cancelled by the user' } }), 0);
        return job as never;
      }
      default: {
        if (this.refuseStarts) throw this.refuseStarts;
        return { jobId: this.begin(method).jobId } as never;
      }
    }
  }

  onEvent(listener: (e: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  begin(method: string): JobInfo {
    const job: JobInfo = {
      jobId: `job-${++this.n}`,
      method,
      state: 'running',
      startedAt: new Date(Date.now() + this.n).toISOString(),
      finishedAt: null,
      progress: null,
      result: null,
      error: null,
    };
    this.jobs.set(job.jobId, job);
    this.emit(job);
    return job;
  }

  update(jobId: string, patch: Partial<JobInfo>): void {
    const job = { ...this.jobs.get(jobId)!, ...patch };
    this.jobs.set(jobId, job);
    this.emit(job);
  }

  private emit(job: JobInfo): void {
    if (this.streaming) for (const l of this.listeners) l({ type: 'job', job });
  }
}

const trainInput = { dataset: 'kc', folds: 2 };
const cvProgress = (round: number) => ({ phase: 'cross-validation', fold: 0, folds: 2, round, nRounds: 10, validLoss: 1 / round });
const trainResult = { modelId: 'm1', name: 'small' };

let disconnect: (() => void) | null = null;
afterEach(() => {
  disconnect?.();
  disconnect = null;
});

function setup(pollMs = 1500) {
  const host = new FakeHost();
  const store = new JobStore(host, pollMs);
  disconnect = store.connect();
  return { host, store };
}

describe('JobStore', () => {
  it('follows a started job through its progress to its result, and keeps every progress report', async () => {
    const { host, store } = setup();
    const changes = vi.fn();
    store.subscribe(changes);
    const finished = vi.fn();
    store.onFinished(finished);
    expect(store.get('train').state).toBe('idle');

    await store.start('train', trainInput);
    const { jobId } = store.get('train');
    expect(store.get('train')).toMatchObject({ state: 'running', input: trainInput, jobId: 'job-1' });
    host.update(jobId!, { progress: cvProgress(1) });
    host.update(jobId!, { progress: cvProgress(1) }); // the same report again (event and poll): logged once
    host.update(jobId!, { progress: cvProgress(2) });
    expect(store.get('train').progressLog).toEqual([cvProgress(1), cvProgress(2)]);
    expect(store.get('train').progress).toEqual(cvProgress(2));

    host.update(jobId!, { state: 'done', result: trainResult });
    expect(store.get('train')).toMatchObject({ state: 'done', result: trainResult, error: null, progress: cvProgress(2) });
    expect(store.get('train').progressLog).toHaveLength(2);
    expect(finished).toHaveBeenCalledTimes(1);
    expect(finished.mock.calls[0][0]).toBe('train');
    expect(changes).toHaveBeenCalled();
    // Other methods have their own slot.
    expect(store.get('score').state).toBe('idle');
  });

  it('returns the same snapshot until something changes', async () => {
    const { host, store } = setup();
    const a = store.get('train');
    expect(store.get('train')).toBe(a);
    await store.start('train', trainInput);
    const b = store.get('train');
    expect(b).not.toBe(a);
    host.update('job-1', { progress: cvProgress(1) });
    const c = store.get('train');
    expect(c).not.toBe(b);
    host.update('job-1', { progress: cvProgress(1) });
    expect(store.get('train')).toBe(c);
  });

  it('shows a cancelled job as cancelled, without an error', async () => {
    const { store } = setup();
    await store.start('train', trainInput);
    await store.cancel('train');
    await vi.waitFor(() => expect(store.get('train').state).toBe('cancelled'));
    expect(store.get('train').error).toBeNull();
  });

  it('cancels a job whose start is still on its way as soon as it has an id', async () => {
    const { store } = setup();
    const started = store.start('train', trainInput);
    await store.cancel('train');
    await started;
    await vi.waitFor(() => expect(store.get('train').state).toBe('cancelled'));
  });

  it('turns a failed job into an ApiCallError with the code', async () => {
    const { host, store } = setup();
    await store.start('datasets.ingest', { file: 'x.csv', config: 'c.yaml' });
    host.update('job-1', { state: 'failed', error: { name: 'AppraiseError', code: 'BAD_FILE', message: 'not a CSV' } });
    const s = store.get('datasets.ingest');
    expect(s.state).toBe('failed');
    expect(s.error).toBeInstanceOf(ApiCallError);
    expect(s.error).toMatchObject({ code: 'BAD_FILE', message: 'not a CSV' });
  });

  it('reports a start the host refuses as failed', async () => {
    const { host, store } = setup();
    host.refuseStarts = new ApiCallError('INVALID_INPUT', 'folds: too big');
    await store.start('train', trainInput);
    expect(store.get('train')).toMatchObject({ state: 'failed', jobId: null, error: host.refuseStarts });
  });

  it('runs one job per method at a time, and reset forgets only a finished one', async () => {
    const { host, store } = setup();
    await store.start('train', trainInput);
    await store.start('train', { dataset: 'other' });
    expect(host.jobs.size).toBe(1);
    store.reset('train');
    expect(store.get('train').state).toBe('running');
    host.update('job-1', { state: 'done', result: trainResult });
    store.reset('train');
    expect(store.get('train')).toMatchObject({ state: 'idle', result: null, progressLog: [] });
  });

  it('picks up a job that was running before the page was reloaded, and keeps following it', async () => {
    const host = new FakeHost();
    const before = host.begin('train');
    host.update(before.jobId, { progress: cvProgress(5) });
    const store = new JobStore(host);
    disconnect = store.connect();
    await vi.waitFor(() => expect(store.get('train').state).toBe('running'));
    expect(store.get('train')).toMatchObject({ jobId: before.jobId, input: null, progress: cvProgress(5) });
    host.update(before.jobId, { progress: cvProgress(6) });
    expect(store.get('train').progressLog).toEqual([cvProgress(5), cvProgress(6)]);
  });

  it('shows a job another window started when this one runs none of that method', () => {
    const { host, store } = setup();
    host.begin('score');
    expect(store.get('score')).toMatchObject({ state: 'running', jobId: 'job-1' });
  });

  it('catches the end of a job the event stream missed, by polling', async () => {
    const { host, store } = setup(5);
    await store.start('score', { source: 'in.csv', out: 'out.csv' });
    host.streaming = false;
    host.update('job-1', { progress: { rows: 10, total: 10 } });
    host.update('job-1', { state: 'done', result: { rows: 10 } });
    await vi.waitFor(() => expect(store.get('score').state).toBe('done'));
    expect(store.get('score').progressLog).toEqual([{ rows: 10, total: 10 }]);
  });

  it('ends a job the host no longer knows (it restarted) as failed', async () => {
    const { host, store } = setup(5);
    await store.start('score', { source: 'in.csv', out: 'out.csv' });
    host.jobs.clear();
    await vi.waitFor(() => expect(store.get('score').state).toBe('failed'));
    expect(store.get('score').error?.code).toBe('NOT_FOUND');
  });
});
