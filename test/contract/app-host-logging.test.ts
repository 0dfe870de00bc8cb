import { expect, test } from 'vitest';
import { join } from 'node:path';
import { tempAppHost, kcConfigPath } from '../helpers/temp-workspace.js';
import { readLogs } from '../../core/logging/log-reader.js';
import { logsDir } from '../../core/logging/log-record.js';
import type { JobInfo } from '../../core/contract/contract.js';

test('the app host logs every job with its id, and a failed job once with its code', async () => {
  const app = await tempAppHost();
  const workspace = app.services.workspace.dir;
  try {
    const missing = join(app.dir, 'no-such-sales.csv');
    const started = (await app.dispatcher.call('datasets.ingest', { file: missing, config: kcConfigPath })) as { jobId: string };
    const failed = await new Promise<JobInfo>((resolve) => {
      const off = app.dispatcher.onEvent((e) => {
        if (e.job.jobId === started.jobId && e.job.state !== 'running') {
          off();
          resolve(e.job);
        }
      });
    });
    // The window's problems panel lists it, newest first, in words, with the code and the job id.
    const recent = (await app.dispatcher.call('logs.recent', { limit: 10 })) as {
      message: string;
      code?: string;
      jobId?: string;
      details: Record<string, unknown>;
    }[];
    const shown = recent.find((r) => r.jobId === failed.jobId && r.message.startsWith('job failed'));
    expect(shown?.code).toBe(failed.error!.code);
    expect(shown?.message).toContain(failed.error!.message.slice(0, 40));
    expect(shown?.details.method).toBe('datasets.ingest');
    // Closing the host flushes and closes its log.
    await app.close();
    expect(failed.state).toBe('failed');
    const { entries } = await readLogs(logsDir(workspace), { jobId: failed.jobId });
    expect(entries.map((e) => e.msg)).toContain('job started');
    const failure = entries.filter((e) => e.msg === 'job failed');
    expect(failure).toHaveLength(1);
    expect(failure[0].level).toBe('error');
    expect(JSON.stringify(failure[0].record)).toContain(failed.error!.code);
    // The worker thread's own line arrived through the owner, carrying the same job id.
    expect(entries.some((e) => e.process === 'worker' && e.msg === 'job thread started')).toBe(true);
  } finally {
    await app.cleanup();
  }
});
