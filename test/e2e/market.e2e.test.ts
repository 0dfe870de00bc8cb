/**
 * End-to-end: the Market page in real Chromium shows the champion's price index — the summary, a region picker
 * with the regions the config names, the index and volume charts and the month-on-month table — for a generated
 * market (north rising 2.5 % a month, south flat). Screenshot: test-results/e2e/market.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { parseConfig } from '../../core/config/load-config.js';
import { generateSales, salesCsv, MARKET_TEST_YAML } from '../helpers/market-sales.js';
import { browserSkipReason } from './browser.js';
import { openApp, type OpenApp } from './open-app.js';

const skip = browserSkipReason();
const MONTHS = 14;

describe.skipIf(skip !== null)('the Market page', () => {
  let e2e: OpenApp;
  let page: Page;

  beforeAll(async () => {
    e2e = await openApp({
      host: { jobsInWorkers: false },
      context: { viewport: { width: 1280, height: 1600 } },
      goto: false,
      seed: async (app, dir) => {
        const sales = generateSales({
          seed: 4,
          months: MONTHS,
          paths: { north: Array.from({ length: MONTHS }, (_, m) => 0.025 * m), south: Array.from({ length: MONTHS }, () => 0) },
          perRegion: { north: 900, south: 700 },
        });
        const csv = join(dir, 'sales.csv');
        writeFileSync(csv, salesCsv(sales));
        const s = app.services;
        const ds = (await s.datasets.ingest({ file: csv, config: parseConfig(`${MARKET_TEST_YAML}market: { region: region }\n`) })).datasetId;
        const { modelId } = await s.training.train({ dataset: ds, folds: 2, params: { nRounds: 60, learningRate: 0.2 }, seed: 1 });
        s.models.promote(modelId);
      },
    });
    page = e2e.page;
  }, 240_000);

  afterAll(() => e2e?.close());

  it('shows the index with its band and nowcast, sales volume and month-on-month change, per region', async () => {
    await page.goto(e2e.host.url);
    await page.getByRole('button', { name: 'Market' }).click();
    const summary = page.getByTestId('market-summary');
    await summary.waitFor({ timeout: 30_000 });
    expect(await summary.textContent()).toMatch(/hedonic time-dummy index over 1,600 sales.*2021-02 = 100/);
    const regions = page.getByLabel('Region');
    expect(await regions.locator('option').allTextContents()).toEqual([
      'whole file',
      expect.stringMatching(/^north \(9\d\d sales\)$|^north/),
      expect.stringMatching(/^south/),
    ]);
    expect(await page.locator('canvas').count()).toBe(2);
    expect(await page.getByTestId('market-changes').locator('tbody tr').count()).toBe(MONTHS - 1);
    await regions.selectOption('north');
    await page.getByText(/This region keeps \d+ % of its own movement/).waitFor();
    // The rising region's month-on-month changes are mostly positive (the generator's +2.5 % a month).
    const changes = await page.getByTestId('market-changes').locator('tbody tr td:nth-child(2)').allTextContents();
    expect(changes.filter((c) => c.startsWith('+')).length).toBeGreaterThan((MONTHS - 1) / 2);
    await e2e.shot('market', true);
  });
});
