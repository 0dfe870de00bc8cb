// Worker thread entry: runs one job against its own connection to the workspace and reports back.
import { serveWorkerTask } from '../common/serve-worker-task.js';
import type { JobRequest } from '../contract/contract.js';
import { jobHandlers, type JobHandler, type JobServices } from './job-handlers.js';

export interface JobStart {
  workspaceDir: string;
  jobId: string;
  job: JobRequest;
}

serveWorkerTask<JobStart, unknown, unknown>(async ({ workspaceDir, job }, task) => {
  const handler = jobHandlers[job.method] as JobHandler<typeof job.method>;
  const control = { signal: task.signal, onProgress: (p: unknown) => task.progress(p as never) };
  // Each kind of job imports only what it needs (see JobHandler.needs).
  if (handler.needs === 'datasets') {
    const { openDatasetServices } = await import('../services/open-datasets.js');
    const s = openDatasetServices(workspaceDir);
    try {
      return await handler.run({ datasets: s.datasets }, job.input as never, control);
    } finally {
      s.close();
    }
  }
  const { openServices } = await import('../services/open-workspace.js');
  const services: JobServices & { close(): Promise<void> } = openServices(workspaceDir);
  try {
    return await handler.run(services, job.input as never, control);
  } finally {
    await services.close();
  }
});
