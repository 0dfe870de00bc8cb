import type { AppHost } from '../../core/app/app-host.js';
import type { JobInfo } from '../../core/contract/contract.js';

/**
 * Waits for a job of a real app host to leave `running`, through the same event stream the window listens to;
 * each event's progress is pushed to `seen`. The job may have ended before the listener was added, so the
 * tracker is asked once too.
 */
export function jobFinished<P = unknown>(host: AppHost, jobId: string, seen: P[] = []): Promise<JobInfo> {
  return new Promise((resolve) => {
    const off = host.dispatcher.onEvent((e) => {
      if (e.job.jobId !== jobId) return;
      if (e.job.progress) seen.push(e.job.progress as P);
      if (e.job.state !== 'running') {
        off();
        resolve(e.job);
      }
    });
    const now = host.jobs.get(jobId);
    if (now.state !== 'running') {
      off();
      resolve(now);
    }
  });
}
