// Worker thread entry: runs one job against its own connection to the workspace and reports back.
import { serveWorkerTask, type WorkerTaskContext } from '../common/serve-worker-task.js';
import { FileAccess, installFileAccess, type FileAccessPolicy } from '../common/file-access.js';
import type { JobRequest } from '../contract/contract.js';
import { jobHandlers, type JobHandler, type JobServices } from './job-handlers.js';
import { workerLogger } from '../logging/worker-log.js';

export interface JobStart {
  workspaceDir: string;
  jobId: string;
  job: JobRequest;
  /** The owner's log level; absent: the owner does not log, so neither does the thread. */
  logLevel?: string;
  /** The owner's file-access policy when it is confined (core/common/file-access.ts); absent: unconfined. */
  fileAccess?: FileAccessPolicy;
  /** Who the audit trail names for the job's actions (the API session's user and role); default the OS user. */
  actor?: string;
}

serveWorkerTask<JobStart, unknown, unknown>(async ({ workspaceDir, jobId, job, logLevel, fileAccess, actor }, task) => {
  installFileAccess(FileAccess.from(fileAccess));
  const log = logLevel ? workerLogger((m) => task.log(m.line), { level: logLevel as never, bindings: { jobId } }) : null;
  const started = performance.now();
  log?.info({ method: job.method }, 'job thread started');
  // A failure is logged once, by the owner's job tracker, with the error this thread returns.
  const result = await runJob(workspaceDir, jobId, job, task, actor);
  log?.info({ method: job.method, seconds: (performance.now() - started) / 1000 }, 'job thread finished');
  return result;
});

async function runJob(workspaceDir: string, jobId: string, job: JobRequest, task: WorkerTaskContext<unknown>, actor: string | undefined): Promise<unknown> {
  const handler = jobHandlers[job.method] as JobHandler<typeof job.method>;
  const control = { signal: task.signal, onProgress: (p: unknown) => task.progress(p as never), jobId };
  // Each kind of job imports only what it needs (see JobHandler.needs).
  if (handler.needs === 'datasets') {
    const { openDatasetServices } = await import('../services/open-datasets.js');
    const s = openDatasetServices(workspaceDir, { actor });
    try {
      return await handler.run({ datasets: s.datasets }, job.input as never, control);
    } finally {
      s.close();
    }
  }
  const { openServices } = await import('../services/open-workspace.js');
  const services: JobServices & { close(): Promise<void> } = openServices(workspaceDir, { actor });
  try {
    return await handler.run(services, job.input as never, control);
  } finally {
    await services.close();
  }
}
