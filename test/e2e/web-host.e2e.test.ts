/**
 * End-to-end: Debian's Chromium driven by playwright-core against the real web host on a real temp workspace.
 * Imports the King County demo, trains a small model with visible progress, promotes it, values a property and
 * checks the numbers against `appraise value --json`, exports the PDF report, imports a CSV with bad rows and
 * reads the quarantine reasons; keeps a long training's progress and loss curve across screens and a page reload,
 * then cancels it and checks it is shown as cancelled, not as an error. Screenshots of every screen go to
 * test-results/e2e/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { PDFDocument } from 'pdf-lib';
import type { AppHost } from '../../core/app/app-host.js';
import { kcConfigPath, kcCsv } from '../helpers/temp-workspace.js';
import { runCli } from '../helpers/run-cli.js';
import { browserSkipReason, screenshotDir } from './browser.js';
import { openApp, type OpenApp } from './open-app.js';

const skip = browserSkipReason();
if (skip) console.warn(`e2e (web host) skipped: ${skip}`);

describe.skipIf(skip !== null)('Appraise in the browser, served by the web host', () => {
  let e2e: OpenApp;
  let dir: string;
  let app: AppHost;
  let page: Page;
  const ws = () => join(dir, 'ws');
  const shot = (name: string) => e2e.shot(name);
  const nav = (name: string) => e2e.nav(name);

  beforeAll(async () => {
    e2e = await openApp({ host: { demo: { csv: kcCsv, config: kcConfigPath } } });
    ({ dir, app, page } = e2e);
  }, 120_000);

  afterAll(() => e2e?.close());

  it('opens without the token in the address bar and says the workspace is empty', async () => {
    await expect.poll(() => page.url()).not.toContain('token=');
    await page.getByText('This workspace has no data yet').waitFor();
    await shot('01-value-empty-workspace');
  });

  it('imports the King County demo with progress and lists it', async () => {
    await nav('Data');
    await page.getByRole('button', { name: 'Load the King County demo' }).click();
    await page.getByTestId('import-result').waitFor({ timeout: 60_000 });
    await expect.poll(() => page.getByTestId('import-result').textContent()).toMatch(/21,597 of 21,597 rows accepted/);
    await page.getByTestId('datasets').getByText('king-county-demo').waitFor();
    await shot('02-data-demo-imported');
  }, 90_000);

  it('trains a small model with visible progress, and promotes it', async () => {
    await nav('Train');
    await page.getByLabel('n rounds').fill('60');
    await page.getByLabel('learning rate').fill('0.1');
    await page.getByLabel('Cross-validation folds').fill('2');
    await page.getByLabel('Model name (optional)').fill('e2e-small');
    await page.getByTestId('train-start').click();
    await page.getByTestId('train-progress').waitFor();
    // Progress is visible while it runs: the phase and rounds appear in the bar's label.
    await page
      .getByRole('progressbar')
      .filter({ hasText: /(Cross-validation|Fitting the final model).*round \d+/ })
      .waitFor({ timeout: 60_000 });
    // Give the loss curve a few points before the picture.
    await page.waitForTimeout(300);
    await shot('03-train-progress');
    await page.getByTestId('train-result').waitFor({ timeout: 120_000 });
    await shot('04-train-result');
    await page.getByTestId('train-promote').click();
    await page.getByText('e2e-small is now the champion.').waitFor();
    await expect.poll(() => page.getByTestId('champion').textContent()).toContain('e2e-small');
  }, 180_000);

  let estimate = 0;
  it('values a property and shows the same numbers as `appraise value --json`', async () => {
    await nav('Value a property');
    await page.getByLabel('Bedrooms').fill('4');
    await page.getByLabel(/Living area/).fill('2400');
    // Validation as you type: an impossible value is flagged before submitting.
    await page.getByLabel(/Year built/).fill('1700');
    await page
      .getByText(/yr_built/)
      .first()
      .waitFor();
    await shot('05-value-validation');
    await page.getByLabel(/Year built/).fill('1987');
    await expect.poll(() => page.getByTestId('value-submit').isDisabled()).toBe(false);
    const request = page.waitForRequest((r) => r.url().endsWith('/api/value'));
    await page.getByTestId('value-submit').click();
    const sent = JSON.parse((await request).postData() ?? '{}') as { input: Record<string, unknown>; valuationDate: string };
    await page.getByTestId('valuation-result').waitFor();
    estimate = Number(await page.getByTestId('estimate').getAttribute('data-value'));
    const shown = await page.getByTestId('estimate').textContent();
    const low80 = Number(await page.getByTestId('interval-80').getAttribute('data-low'));
    await page.locator('canvas').first().waitFor();
    await shot('06-value-result');

    const cli = await runCli(['--workspace', ws(), '--json', 'value', 'champion', '--input', JSON.stringify(sent.input), '--date', sent.valuationDate]);
    expect(cli.code, cli.stderr).toBe(0);
    const v = JSON.parse(cli.stdout) as { estimate: number; interval: { low: number; high: number }; intervals: { level: number; low: number }[] };
    expect(estimate).toBe(v.estimate);
    expect(low80).toBe(v.intervals.find((i) => Math.round(i.level * 100) === 80)!.low);
    // Shown as appraisers report it, to the nearest $1,000; the model's own figure is the data-value.
    expect(shown).toBe(
      new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 }).format(Math.round(v.estimate / 1000) * 1000),
    );
  }, 90_000);

  it('saves the valuation and exports a PDF report containing the estimate', async () => {
    await page.getByRole('button', { name: 'Save to history' }).click();
    await page.getByText('Saved to the history.').waitFor();
    const download = page.waitForEvent('download');
    await page.getByTestId('export-pdf').click();
    const file = await (await download).path();
    const bytes = readFileSync(file);
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(bytes.subarray(-8).toString('latin1')).toContain('%%EOF');
    const doc = await PDFDocument.load(bytes);
    // The appraisal report runs to several pages (summary, subject, grid, reasons, certification), each numbered.
    expect(doc.getPageCount()).toBeGreaterThan(1);
    const text = pdfText(bytes);
    const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 }).format(Math.round(estimate / 1000) * 1000);
    expect(text).toContain(money);
    expect(text).toContain('Appraisal report');
    writeFileSync(join(screenshotDir, 'valuation-report.pdf'), bytes);
  }, 60_000);

  it('imports a CSV with bad rows and shows each quarantined row with its reasons', async () => {
    const lines = readFileSync(kcCsv, 'utf8').split('\n').slice(0, 41);
    const header = lines[0].split(',');
    const bad = lines.slice(1, 4).map((l) => l.split(','));
    bad[0][header.indexOf('price')] = 'lots';
    bad[1][header.indexOf('bedrooms')] = '99';
    const file = join(dir, 'sales-with-bad-rows.csv');
    writeFileSync(file, [lines[0], ...lines.slice(4), bad[0].join(','), bad[1].join(','), bad[2].slice(0, 5).join(',')].join('\n') + '\n');
    await nav('Data');
    await page.getByLabel('CSV file path').fill(file);
    await page.getByLabel('Configuration (YAML) path').fill(kcConfigPath);
    await page.getByLabel('Name (optional)').fill('with-bad-rows');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect
      .poll(() => page.getByTestId('import-result').textContent(), { timeout: 60_000 })
      .toMatch(/with-bad-rows.*37 of 40 rows accepted, 3 quarantined/);
    await page.getByRole('button', { name: 'Open with-bad-rows' }).click();
    const q = page.getByTestId('quarantine');
    await q.waitFor();
    const text = (await q.textContent()) ?? '';
    expect(text).toMatch(/price/);
    expect(text).toMatch(/bedrooms/);
    expect(text).toMatch(/has 5 fields, the header has 21/);
    await page.getByTestId('quarantine').scrollIntoViewIfNeeded();
    await shot('07-data-quarantine');
  }, 90_000);

  it('warm-starts a second model, compares the two, exports one, promotes it and rolls back', async () => {
    await nav('Train');
    const kc = page.getByLabel('Dataset').locator('option', { hasText: 'king-county-demo' });
    await page.getByLabel('Dataset').selectOption((await kc.getAttribute('value'))!);
    await page.getByLabel('Warm start from a model').check();
    await page.getByLabel('n rounds').fill('20');
    await page.getByLabel('Cross-validation folds').fill('2');
    await page.getByLabel('Model name (optional)').fill('e2e-warm');
    await page.getByTestId('train-start').click();
    await Promise.race([
      page.getByTestId('train-result').getByText('e2e-warm').waitFor({ timeout: 120_000 }),
      page
        .getByRole('alert')
        .waitFor({ timeout: 120_000 })
        .then(async () => {
          await shot('train-warm-error');
          throw new Error(`warm start failed: ${await page.getByRole('alert').textContent()}`);
        }),
    ]);
    await nav('Models');
    const table = page.getByTestId('models');
    await table.getByText('e2e-warm').waitFor();
    await page.getByLabel('Compare e2e-small').check();
    await page.getByLabel('Compare e2e-warm').check();
    await page.getByTestId('comparison').getByText('RMSE of log price').waitFor();
    await page.getByTestId('comparison').scrollIntoViewIfNeeded();
    await shot('08b-models-compare');
    const exportDir = join(dir, 'exported');
    await page.getByLabel(/Export folder/).fill(exportDir);
    await table.locator('tr', { hasText: 'e2e-warm' }).getByRole('button', { name: 'Export' }).click();
    await page.getByText(`Exported e2e-warm to ${exportDir}.`).waitFor();
    expect(readdirSync(exportDir).some((f) => f.endsWith('.onnx'))).toBe(true);
    // A champion change asks for a confirmation and a reason, kept in the champion history.
    await page.getByRole('button', { name: 'Promote e2e-warm' }).click();
    await page.getByTestId('change-reason').fill('warm start on the newer sales');
    await page.getByTestId('change-confirm').click();
    await expect.poll(() => page.getByTestId('champion').textContent()).toContain('e2e-warm');
    await page.getByRole('button', { name: /Roll back/ }).click();
    await page.getByTestId('change-reason').fill('comparing once more');
    await page.getByTestId('change-confirm').click();
    await expect.poll(() => page.getByTestId('champion').textContent()).toContain('e2e-small');
    const history = (await app.dispatcher.call('models.history', {})) as { changes: { reason: string }[] };
    expect(history.changes.map((h) => h.reason)).toEqual(
      expect.arrayContaining(['warm start on the newer sales', expect.stringContaining('comparing once more')]),
    );
  }, 180_000);

  it('values a CSV file in a batch with progress', async () => {
    const lines = readFileSync(kcCsv, 'utf8').split('\n').slice(0, 31);
    const source = join(dir, 'batch.csv');
    writeFileSync(source, lines.join('\n') + '\n');
    await nav('Batch');
    await page.getByLabel('CSV to value').fill(source);
    await page.getByLabel(/Output CSV/).fill(join(dir, 'batch-valued.csv'));
    await page.getByRole('button', { name: 'Check the columns' }).click();
    await expect.poll(() => page.getByTestId('batch-inspection').textContent()).toMatch(/Every required column is there\. 30 of the first 30 rows are valid/);
    await page.getByRole('button', { name: 'Value the file' }).click();
    await page.getByRole('heading', { name: 'Done' }).waitFor({ timeout: 60_000 });
    expect(await page.getByRole('status').last().textContent()).toMatch(/30 of 30 properties valued/);
    await shot('09-batch');
  }, 90_000);

  it('keeps a running training, its progress and its loss curve, across screens and a page reload', async () => {
    await nav('Train');
    const kc = page.getByLabel('Dataset').locator('option', { hasText: 'king-county-demo' });
    await page.getByLabel('Dataset').selectOption((await kc.getAttribute('value'))!);
    await page.getByLabel('Full training').check();
    // Long enough to still run after two screen changes and a reload; the next test cancels it.
    await page.getByLabel('n rounds').fill('5000');
    await page.getByLabel('learning rate').fill('0.002');
    await page.getByLabel('Cross-validation folds').fill('5');
    await page.getByLabel('Model name (optional)').fill('e2e-long');
    await page.getByTestId('train-start').click();
    const card = page.getByTestId('train-progress');
    const curve = async () => ({ fit: Number(await card.getAttribute('data-curve-fit')), points: Number(await card.getAttribute('data-curve-points')) });
    await expect.poll(async () => (await curve()).points, { timeout: 60_000 }).toBeGreaterThanOrEqual(5);
    const before = await curve();

    await nav('Models');
    await page.getByTestId('models').waitFor();
    await nav('Train');
    await card.waitFor();
    // Straight back from the store: the curve has every point it had (more if the fit went on), not a new start.
    const after = await curve();
    expect(after.points).toBeGreaterThan(0);
    if (after.fit === before.fit) expect(after.points).toBeGreaterThanOrEqual(before.points);
    expect(await card.getAttribute('data-state')).toBe('running');
    expect(await card.getByRole('progressbar').textContent()).toMatch(/round \d+/);
    // The form shows the settings the training was started with, not the defaults.
    expect(await page.getByLabel('n rounds').inputValue()).toBe('5000');
    await expect.poll(() => page.getByTestId('train-start').textContent()).toBe('Training…');
    await shot('13-train-progress-after-navigation');

    // A reload finds the training still running on the host and follows it again.
    await page.reload();
    await nav('Train');
    await card.waitFor({ timeout: 15_000 });
    expect(await card.getAttribute('data-state')).toBe('running');
    await expect.poll(async () => (await curve()).points, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    await page.getByTestId('jobs-indicator').waitFor();
  }, 150_000);

  it('shows a cancelled training as cancelled, not as an error', async () => {
    await page.getByTestId('train-cancel').click();
    await page.getByTestId('job-cancelled').waitFor({ timeout: 30_000 });
    const card = page.getByTestId('train-progress');
    expect(await card.getAttribute('data-state')).toBe('cancelled');
    expect(await card.getByRole('progressbar').textContent()).toContain('Cancelled');
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await page.getByTestId('train-result').count()).toBe(0);
    await expect.poll(() => page.getByTestId('train-start').isDisabled()).toBe(false);
    await shot('14-train-cancelled');
  }, 60_000);

  it('shows the registry, and every other screen, in light and dark themes', async () => {
    await nav('Models');
    await page.getByTestId('models').getByText('e2e-small').waitFor();
    expect(await page.getByTestId('models').textContent()).toContain('champion');
    await shot('08-models');
    for (const [n, name] of [
      ['10', 'Monitoring'],
      ['11', 'Sync'],
    ] as const) {
      await nav(name);
      await page.getByRole('heading', { level: 1 }).waitFor();
      await shot(`${n}-${name.toLowerCase()}`);
    }
    // Keyboard: Alt+1 goes to the valuation screen; the theme toggles.
    await page.keyboard.press('Alt+1');
    await page.getByRole('heading', { name: 'Value a property' }).waitFor();
    await page.getByRole('button', { name: /Switch to dark theme/ }).click();
    await expect.poll(() => page.locator('html').getAttribute('data-theme')).toBe('dark');
    await shot('12-value-dark');
  }, 60_000);
});

/** The text drawn on a pdf-lib page: inflate each content stream, decode its hex strings (WinAnsi ⊇ ASCII). */
function pdfText(pdf: Buffer): string {
  const out: string[] = [];
  const raw = pdf.toString('latin1');
  const re = /stream\r?\n/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(raw))) {
    const start = m.index + m[0].length;
    const end = raw.indexOf('endstream', start);
    if (end < 0) break;
    const body = pdf.subarray(start, end);
    let text: string;
    try {
      text = inflateSync(body).toString('latin1');
    } catch {
      text = body.toString('latin1');
    }
    for (const h of text.matchAll(/<([0-9A-Fa-f]+)>\s*Tj/g)) out.push(Buffer.from(h[1], 'hex').toString('latin1'));
    for (const s of text.matchAll(/\(((?:[^()\\]|\\.)*)\)\s*Tj/g)) out.push(s[1]);
    re.lastIndex = end;
  }
  return out.join('\n');
}
