/**
 * End-to-end appraisal: Debian's Chromium against the real web host on a fresh workspace. First run → demo →
 * value; open the adjustment grid; exclude a comparable and override an adjustment with a reason; enter the
 * subject; save; download the PDF report and read it back with `pdftotext`. Screenshots of the Value screen at
 * 1280×800 and 1024×700, light and dark, land in test-results/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { AppHost } from '../../core/app/app-host.js';
import type { AdjustedComparable, HistoryEntry } from '../../core/valuation/valuation-schemas.js';
import { kcConfigPath, kcCsv } from '../helpers/temp-workspace.js';
import { browserSkipReason, screenshotDir } from './browser.js';
import { openApp, type OpenApp } from './open-app.js';

const skip = browserSkipReason();
if (skip) console.warn(`e2e (appraisal report) skipped: ${skip}`);

describe.skipIf(skip !== null)('an appraisal in the browser: grid edits, subject, saved, and the PDF report', () => {
  let e2e: OpenApp;
  let dir: string;
  let app: AppHost;
  let page: Page;

  beforeAll(async () => {
    e2e = await openApp({ host: { demo: { csv: kcCsv, config: kcConfigPath }, processName: 'none' } });
    ({ dir, app, page } = e2e);
  }, 120_000);

  afterAll(() => e2e?.close());

  it('values the demo house, edits the grid, saves it and reports it', async () => {
    await page.getByRole('button', { name: 'Load the demo data and model' }).click();
    // The form starts from one real sale and says so.
    await page.getByTestId('typical-note').waitFor({ timeout: 20_000 });
    await expect.poll(() => page.getByTestId('value-submit').isDisabled(), { timeout: 10_000 }).toBe(false);
    await page.getByTestId('value-submit').click();
    await page.getByTestId('valuation-result').waitFor({ timeout: 10_000 });
    // No grid until asked for.
    expect(await page.getByTestId('grid-table').count()).toBe(0);
    await page.getByTestId('open-grid').click();
    await page.getByTestId('grid-table').waitFor({ timeout: 10_000 });
    const adjusted = async (i: number) => Number(await page.getByTestId(`grid-adjusted-${i}`).getAttribute('data-value'));
    const before = [await adjusted(0), await adjusted(1)];

    // Exclude comparable 2: it stays listed, the reconciliation counts one fewer.
    // A click, not check(): the box follows core's answer, not the click itself.
    await page.getByTestId('grid-exclude-1').click();
    await page.getByTestId('reconciliation').getByText('4 comparables').waitFor();
    expect(await adjusted(1)).toBe(before[1]);

    // Override comparable 1's location line with a reason: its adjusted price moves by the difference.
    const cell = page.getByTestId('grid-cell-0-location');
    const modelAmount = Number(await cell.getAttribute('data-amount'));
    await cell.getByRole('button').click();
    await page.getByTestId('override-amount').fill('-15000');
    await page.getByTestId('override-reason').fill('faces the freeway on-ramp');
    await page.getByTestId('override-apply').click();
    await cell.getByText('override: faces the freeway on-ramp').waitFor();
    expect(await adjusted(0)).toBeCloseTo(before[0] - modelAmount - 15_000, 3);

    // The subject and assignment.
    await page.getByTestId('subject-address').fill('4217 NE 123rd St, Seattle WA 98125');
    await page.getByTestId('subject-client').fill('Cascade Credit Union');
    await page.getByTestId('subject-appraiserName').fill('Robin Okafor');
    await page.getByTestId('subject-appraiserLicence').fill('WA-1100456');

    for (const [w, h] of [
      [1280, 800],
      [1024, 700],
    ]) {
      await page.setViewportSize({ width: w, height: h });
      for (const theme of ['light', 'dark']) {
        // The result at the top of the screen, then the edited grid.
        await page.evaluate('window.scrollTo(0, 0)');
        await page.getByTestId('valuation-result').scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(screenshotDir, '..', `value-${w}x${h}-${theme}.png`) });
        await page.getByTestId('grid-table').scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(screenshotDir, '..', `value-grid-${w}x${h}-${theme}.png`) });
        await page.getByRole('button', { name: theme === 'light' ? 'Switch to dark theme' : 'Switch to light theme' }).click();
      }
    }
    await page.setViewportSize({ width: 1280, height: 800 });

    await page.getByRole('button', { name: 'Save to history' }).click();
    await page.getByText('Saved to the history.').waitFor();
    const saved = (await app.dispatcher.call('history.list', {})) as HistoryEntry[];
    const v = saved[0].valuation;
    expect(v.subject).toMatchObject({ address: '4217 NE 123rd St, Seattle WA 98125', client: 'Cascade Credit Union', appraiserName: 'Robin Okafor' });
    expect(v.gridEdits?.excluded.length).toBe(1);
    expect(v.gridEdits?.overrides).toMatchObject([{ group: 'location', amount: -15000, reason: 'faces the freeway on-ramp' }]);
    const comps = v.comparables as AdjustedComparable[];
    expect(comps[1].excluded).toBe(true);
    expect(v.reconciliation?.count).toBe(4);
    // The adjusted prices still equal price + adjustments.
    for (const c of comps) expect(c.adjustedPrice).toBeCloseTo(c.price + c.adjustments.reduce((s, a) => s + a.amount, 0), 6);

    const download = page.waitForEvent('download');
    await page.getByTestId('export-pdf').click();
    const file = join(dir, 'report.pdf');
    await (await download).saveAs(file);
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    const flat = text.replace(/\s+/g, ' ');
    expect(flat).toContain('4217 NE 123rd St, Seattle WA 98125');
    for (const c of comps) {
      expect(text).toContain(c.saleId!);
      expect(text).toContain(`$${Math.round(c.adjustedPrice).toLocaleString('en-US')}`);
    }
    expect(flat).toContain('override: faces the freeway on-ramp');
    expect(flat).toContain('Comp 2 (excluded)');
    const round = (n: number) => `$${(Math.round(n / 1000) * 1000).toLocaleString('en-US')}`;
    expect(flat).toContain(`80% range: ${round(v.interval.low)} - ${round(v.interval.high)}`);
    expect(flat).toContain('I certify that, to the best of my knowledge and belief');
    expect(flat).toMatch(/Page 1 of \d/);
  }, 120_000);
});
