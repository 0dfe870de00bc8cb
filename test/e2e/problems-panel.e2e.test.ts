/**
 * End-to-end: a job that fails shows up in the top bar's problems panel in words, with its code, and "Copy
 * details" puts the whole log record (with the job id) on the clipboard.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { listenWebHost, type ListeningWebHost } from '../../core/api/web-host.js';
import { kcConfigPath, tempAppHost } from '../helpers/temp-workspace.js';
import { browserSkipReason, ensureRendererBuilt, launchChromium, rendererDist, screenshotDir } from './browser.js';
import type { JobInfo } from '../../core/contract/contract.js';

const skip = browserSkipReason();

describe.skipIf(skip !== null)('the problems panel', () => {
  let app: Awaited<ReturnType<typeof tempAppHost>>;
  let host: ListeningWebHost;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    ensureRendererBuilt();
    mkdirSync(screenshotDir, { recursive: true });
    app = await tempAppHost();
    host = await listenWebHost({ dispatcher: app.dispatcher, staticDir: rendererDist });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, permissions: ['clipboard-read', 'clipboard-write'] });
    page = await context.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await host?.close();
    await app?.cleanup();
  });

  it('lists a failed import in words and copies its details', async () => {
    const started = (await app.dispatcher.call('datasets.ingest', { file: join(app.dir, 'missing-sales.csv'), config: kcConfigPath })) as { jobId: string };
    const failed = await new Promise<JobInfo>((resolve) => {
      const off = app.dispatcher.onEvent((e) => {
        if (e.job.jobId === started.jobId && e.job.state !== 'running') {
          off();
          resolve(e.job);
        }
      });
    });
    expect(failed.state).toBe('failed');
    await page.goto(host.url);
    await page.getByTestId('problems-toggle').click();
    const panel = page.getByTestId('problems');
    await panel.getByText(/job failed/).waitFor();
    expect(await panel.getByRole('listitem').count()).toBe(1);
    const text = (await panel.textContent()) ?? '';
    expect(text).toContain(failed.error!.code);
    expect(text).toContain('missing-sales.csv');
    await page.screenshot({ path: join(screenshotDir, 'problems-panel.png') });
    await panel.getByRole('button', { name: 'Copy details' }).first().click();
    await panel.getByRole('button', { name: 'Copied' }).waitFor();
    const copied = JSON.parse(await page.evaluate<string>('navigator.clipboard.readText()')) as { jobId?: string; method?: string };
    expect(copied.jobId).toBe(failed.jobId);
    expect(copied.method).toBe('datasets.ingest');
  });
});
