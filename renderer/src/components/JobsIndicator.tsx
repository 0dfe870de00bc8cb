import { useEffect, useState } from 'react';
import type { JobInfo } from '../../../core/contract/contract.js';
import { api } from '../api-client.js';

const LABEL: Record<string, string> = { 'datasets.ingest': 'Importing', train: 'Training', score: 'Valuing a batch', 'monitoring.retrain': 'Retraining' };

/** Long work running anywhere in the app, shown in the top bar so it stays visible when switching screens. */
export function JobsIndicator() {
  const [running, setRunning] = useState<Map<string, JobInfo>>(new Map());
  useEffect(() => {
    void api.call('jobs.list', {}).then(
      (jobs) => setRunning(new Map(jobs.filter((j) => j.state === 'running').map((j) => [j.jobId, j]))),
      () => undefined,
    );
    return api.onEvent((e) => {
      if (e.type !== 'job') return;
      setRunning((prev) => {
        const next = new Map(prev);
        if (e.job.state === 'running') next.set(e.job.jobId, e.job);
        else next.delete(e.job.jobId);
        return next;
      });
    });
  }, []);
  if (running.size === 0) return null;
  const jobs = [...running.values()];
  return (
    <span className="jobs-indicator" role="status" aria-live="polite" data-testid="jobs-indicator">
      <span className="spinner" aria-hidden="true" /> {jobs.map((j) => LABEL[j.method] ?? j.method).join(', ')}…
    </span>
  );
}
