import { AppraiseError } from '../common/errors.js';
import { fileAccess } from '../common/file-access.js';
import type { JobControl } from '../common/job-control.js';
import { runWorkerTask, type WorkerTask } from '../common/worker-task.js';
import type { JobMethodName, JobProgress, JobRequest, JobResult, ParsedInput } from '../contract/contract.js';
import type { JobStart } from './job-worker.js';

/**
 * V8 heap limits per kind of job. Ingest streams: a capped old generation makes V8 collect early, which keeps
 * peak RSS flat whatever the file size (measured: 244 → 172 MiB on 200k rows, no slower). Training and scoring
 * keep their big arrays off-heap (typed arrays), so their heap needs are small too, but they get more headroom.
 */
const JOB_HEAP_LIMITS: Record<JobRequest['method'], { maxOldGenerationSizeMb: number }> = {
  'datasets.ingest': { maxOldGenerationSizeMb: 128 },
  // The demo's ingest streams as above; importing its model reads and hashes the ONNX file in memory.
  'app.loadDemo': { maxOldGenerationSizeMb: 512 },
  train: { maxOldGenerationSizeMb: 2048 },
  score: { maxOldGenerationSizeMb: 512 },
  // A training run (as `train`) plus the monitoring report over the champion's log.
  'monitoring.retrain': { maxOldGenerationSizeMb: 2048 },
};

/** What a job that outgrew its heap tells the user to change; absent: a bug (INTERNAL). */
const OUT_OF_MEMORY: Partial<Record<JobRequest['method'], () => AppraiseError>> = {
  // The ingest heap holds one batch of rows at a time, so its size follows the config (issue 14, #8).
  'datasets.ingest': () =>
    new AppraiseError(
      'INVALID_CONFIG',
      `the import ran out of memory holding one batch of rows; lower pipeline.ingest.batchSize (default 20000) or pipeline.ingest.maxRecordBytes in the config`,
    ),
};

/**
 * Runs jobs in worker threads so the calling thread (the web host, the Electron core host) stays responsive.
 * Each job gets its own thread and workspace connection (SQLite in WAL mode lets them read and write alongside
 * the caller); the runner owns the threads and ends them all in `close()`.
 */
export class JobRunner {
  private readonly running = new Set<WorkerTask<unknown>>();
  private nextLocalId = 1;

  constructor(
    private readonly workspaceDir: string,
    /** Where the job threads' log lines go (the owner's logger), and the level they log at. */
    private readonly onLog?: (line: string) => void,
    private readonly logLevel?: string,
    /** Who the audit trail names for the jobs' actions; default the OS user of this process. */
    private readonly actor?: string,
  ) {}

  /** Runs `job` (identified by the tracker's `jobId`) in a thread of its own; settles with its result. */
  async run<M extends JobMethodName>(jobId: string, job: { method: M; input: ParsedInput<M> }, control: JobControl<JobProgress<M>>): Promise<JobResult<M>> {
    const task = runWorkerTask<JobStart, JobProgress<M>, JobResult<M>>(
      import.meta.url,
      'job-worker',
      {
        workspaceDir: this.workspaceDir,
        jobId,
        job: job as JobRequest,
        logLevel: this.onLog ? this.logLevel : undefined,
        actor: this.actor,
        // The thread confines its file access as this process does (the web host's allowed folders).
        fileAccess: fileAccess().confined ? fileAccess().toJSON() : undefined,
      },
      {
        describe: `the ${job.method} job thread`,
        onProgress: control.onProgress,
        onLog: this.onLog,
        signal: control.signal,
        resourceLimits: JOB_HEAP_LIMITS[job.method],
        outOfMemoryError: OUT_OF_MEMORY[job.method],
      },
    );
    this.running.add(task);
    void task.exited.then(() => this.running.delete(task));
    return task.result;
  }

  /** Runs a job for a caller without a job tracker (the CLI): the id is local to this runner. */
  runLocal<M extends JobMethodName>(job: { method: M; input: ParsedInput<M> }, control: JobControl<JobProgress<M>> = {}): Promise<JobResult<M>> {
    return this.run(`local-${process.pid}-${this.nextLocalId++}`, job, control);
  }

  /** Cancels every running job and waits for the threads to end. */
  async close(): Promise<void> {
    const all = [...this.running];
    for (const t of all) t.cancel();
    await Promise.allSettled(all.map((t) => t.result));
    await Promise.all(all.map((t) => t.terminate()));
  }
}
