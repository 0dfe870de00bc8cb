/**
 * End-to-end: after a shifted feed (a new subdivision in a ZIP code the model never saw, sold 15 % above the
 * model's level), the Monitoring page shows the alerts with their badge, the PSI bars and the ratio study; the
 * screenshot is test-results/e2e/monitoring-shifted.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { kcConfig, kcCsv } from '../helpers/temp-workspace.js';
import { browserSkipReason } from './browser.js';
import { openApp, type OpenApp } from './open-app.js';

const skip = browserSkipReason();

describe.skipIf(skip !== null)('the Monitoring page', () => {
  let e2e: OpenApp;
  let page: Page;

  beforeAll(async () => {
    e2e = await openApp({
      host: { jobsInWorkers: false },
      context: { viewport: { width: 1280, height: 1400 } },
      goto: false,
      seed: async (app, dir) => {
        const lines = readFileSync(kcCsv, 'utf8')
          .split(/\r?\n/)
          .filter((l) => l);
        const header = lines[0].split(',');
        const year = (l: string) => Number(l.split(',')[1].split('/')[2]);
        const train = join(dir, 'train.csv');
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
      },
    });
    page = e2e.page;
  }, 240_000);

  afterAll(() => e2e?.close());

  it('shows the shifted scenario: alert badge and list, drift bars, ratio study against the IAAO ranges', async () => {
    await page.goto(e2e.host.url);
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
    await e2e.shot('monitoring-shifted', true);
  });
});
