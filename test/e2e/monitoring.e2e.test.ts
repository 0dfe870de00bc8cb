/**
 * End-to-end: after a shifted feed (a new subdivision in a ZIP code the model never saw, sold 15 % above the
 * model's level), the Monitoring page shows the alerts with their badge, the PSI bars and the ratio study; the
 * screenshot is test-results/e2e/monitoring-shifted.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { listenWebHost, type ListeningWebHost } from '../../core/api/web-host.js';
import { kcConfig, kcCsv, tempAppHost } from '../helpers/temp-workspace.js';
import { browserSkipReason, ensureRendererBuilt, launchChromium, rendererDist, screenshotDir } from './browser.js';

const skip = browserSkipReason();

describe.skipIf(skip !== null)('the Monitoring page', () => {
  let app: Awaited<ReturnType<typeof tempAppHost>>;
  let host: ListeningWebHost;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    ensureRendererBuilt();
    mkdirSync(screenshotDir, { recursive: true });
    app = await tempAppHost({ jobsInWorkers: false });
    const lines = readFileSync(kcCsv, 'utf8')
      .split(/\r?\n/)
      .filter((l) => l);
    const header = lines[0].split(',');
    const year = (l: string) => Number(l.split(',')[1].split('/')[2]);
    const train = join(app.dir, 'train.csv');
    writeFileSync(train, [lines[0], ...lines.slice(1).filter((l) => year(l) === 2014)].join('\n'));
    const s = app.services;
    const ds = (await s.datasets.ingest({ file: train, config: kcConfig() })).datasetId;
    const { modelId } = await s.training.train({ dataset: ds, folds: 2, params: { nRounds: 200, learningRate: 0.15 }, seed: 1 });
    s.models.promote(modelId);
    const later = lines.slice(1).filter((l) => year(l) === 2015);
    for (let i = 0; i < 400; i++) {
      const row = Object.fromEntries(later[i * 7].split(',').map((v, j) => [header[j], v]));
      const input = i % 3 === 0 ? { ...row, zipcode: '98999', yr_built: '2014', yr_renovated: '0' } : row;
      const v = await s.valuation.value('champion', input);
      s.monitoring.recordSale(v.predictionId!, Number(row.price) * 1.15);
    }
    host = await listenWebHost({ dispatcher: app.dispatcher, staticDir: rendererDist });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 1400 } })).newPage();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await host?.close();
    await app?.cleanup();
  });

  it('shows the shifted scenario: alert badge and list, drift bars, ratio study against the IAAO ranges', async () => {
    await page.goto(host.url);
    await page.getByRole('button', { name: 'Monitoring' }).click();
    const alerts = page.getByTestId('alerts');
    await alerts.getByText(/zipcode: .* categories never seen in training/).waitFor({ timeout: 30_000 });
    const text = (await alerts.textContent()) ?? '';
    expect(text).toMatch(/yr_built drifted/);
    expect(text).toMatch(/median ratio 0\.\d+ is outside 0\.9–1\.1 \(under-valued/);
    const badge = Number(await page.getByTestId('alert-badge').textContent());
    expect(badge).toBe(await alerts.getByRole('listitem').count());
    expect(await page.getByTestId('monitoring-summary').textContent()).toContain('400 valuation(s) logged, 400 with a sale price');
    expect(await page.getByTestId('ratio-study').getByRole('row').count()).toBeGreaterThan(5);
    expect(await page.locator('canvas').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(screenshotDir, 'monitoring-shifted.png'), fullPage: true });
  });
});
