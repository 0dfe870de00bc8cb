import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo, JobResult } from '../../core/contract/contract.js';
import { AppraiseError } from '../../core/common/errors.js';
import { DEMO_HOUSE } from '../../core/app/demo-workspace.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, tempAppHost } from '../helpers/temp-workspace.js';

/**
 * The window's first run: `app.loadDemo` runs as a job in a real job thread on a real workspace, leaves the
 * bundled demo data ingested and the bundled model champion, and the very next `value` call answers.
 */
describe('app.loadDemo (first run)', () => {
  let app: Awaited<ReturnType<typeof tempAppHost>>;
  beforeAll(async () => {
    app = await tempAppHost({ processName: 'none' });
  });
  afterAll(async () => {
    await app?.cleanup();
  });

  const finished = async (jobId: string): Promise<JobInfo> => {
    for (let i = 0; i < 2400; i++) {
      const job = (await app.dispatcher.call('jobs.get', { jobId })) as JobInfo;
      if (job.state !== 'running') return job;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`job ${jobId} still running after 60 s`);
  };

  it('refuses to value on an empty workspace with a hint the window turns into what to click', async () => {
    const err = await app.dispatcher.call('value', { input: DEMO_HOUSE }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppraiseError);
    expect((err as AppraiseError).code).toBe('NOT_FOUND');
    expect((err as AppraiseError).details).toMatchObject({ hint: 'no-champion' });
  });

  it('loads the demo data and makes the bundled model champion; the next valuation answers', async () => {
    const { jobId } = (await app.dispatcher.call('app.loadDemo', {})) as { jobId: string };
    const job = await finished(jobId);
    expect(job.error).toBeNull();
    expect(job.state).toBe('done');
    const result = job.result as JobResult<'app.loadDemo'>;
    expect(result.rowsAccepted).toBe(21_597);
    expect(result.reused).toBe(false);
    expect(result.importedModel).not.toBeNull();
    expect(result.championId).toBe(result.importedModel!.id);
    // The config's display-only keys (level names, labels) are not hashed: the demo data is still the very
    // dataset the bundled model records as its training data.
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'models', 'king-county', 'manifest.json'), 'utf8')) as { trainingDatasetId: string };
    expect(result.datasetId).toBe(manifest.trainingDatasetId);

    const info = (await app.dispatcher.call('app.info', {})) as { champion: { id: string } | null; form: { datasetId: string } | null };
    expect(info.champion?.id).toBe(result.importedModel!.id);
    expect(info.form?.datasetId).toBe(result.datasetId);
    const v = (await app.dispatcher.call('value', { input: DEMO_HOUSE })) as { estimate: number; modelId: string };
    expect(v.modelId).toBe(result.importedModel!.id);
    // A 3-bed, 2,570 sqft house in 98125 in 2015: a plausible King County price, not a placeholder.
    expect(v.estimate).toBeGreaterThan(200_000);
    expect(v.estimate).toBeLessThan(1_500_000);
  }, 90_000);

  it('is idempotent and never replaces an existing champion', async () => {
    const { jobId } = (await app.dispatcher.call('app.loadDemo', {})) as { jobId: string };
    const job = await finished(jobId);
    expect(job.state).toBe('done');
    const result = job.result as JobResult<'app.loadDemo'>;
    expect(result.reused).toBe(true);
    expect(result.importedModel).toBeNull();
    const models = (await app.dispatcher.call('models.list', {})) as { id: string; status: string }[];
    expect(models).toHaveLength(1);
    expect(result.championId).toBe(models[0].id);
  }, 90_000);
});
