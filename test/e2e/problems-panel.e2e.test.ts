/**
 * End-to-end: a job that fails shows up in the top bar's problems panel in words, with its code, and "Copy
 * details" puts the whole log record (with the job id) on the clipboard.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { AppHost } from '../../core/app/app-host.js';
import { kcConfigPath } from '../helpers/temp-workspace.js';
import { browserSkipReason } from './browser.js';
import { openApp, type OpenApp } from './open-app.js';
import type { JobInfo } from '../../core/contract/contract.js';

const skip = browserSkipReason();

describe.skipIf(skip !== null)('the problems panel', () => {
  let e2e: OpenApp;
  let app: AppHost;
  let page: Page;

  beforeAll(async () => {
    e2e = await openApp({ context: { permissions: ['clipboard-read', 'clipboard-write'] }, goto: false });
    ({ app, page } = e2e);
  }, 120_000);

  afterAll(() => e2e?.close());

  it('lists a failed import in words and copies its details', async () => {
    const started = (await app.dispatcher.call('datasets.ingest', { file: join(e2e.dir, 'missing-sales.csv'), config: kcConfigPath })) as { jobId: string };
    const failed = await new Promise<JobInfo>((resolve) => {
      const off = app.dispatcher.onEvent((e) => {
        if (e.job.jobId === started.jobId && e.job.state !== 'running') {
          off();
          resolve(e.job);
        }
      });
    });
    expect(failed.state).toBe('failed');
    await page.goto(e2e.host.url);
    await page.getByTestId('problems-toggle').click();
    const panel = page.getByTestId('problems');
    await panel.getByText(/job failed/).waitFor();
    expect(await panel.getByRole('listitem').count()).toBe(1);
    const text = (await panel.textContent()) ?? '';
    expect(text).toContain(failed.error!.code);
    expect(text).toContain('missing-sales.csv');
    await e2e.shot('problems-panel');
    await panel.getByRole('button', { name: 'Copy details' }).first().click();
    await panel.getByRole('button', { name: 'Copied' }).waitFor();
    const copied = JSON.parse(await page.evaluate<string>('navigator.clipboard.readText()')) as { jobId?: string; method?: string };
    expect(copied.jobId).toBe(failed.jobId);
    expect(copied.method).toBe('datasets.ingest');
  });
});
