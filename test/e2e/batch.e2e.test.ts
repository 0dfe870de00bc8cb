/**
 * End-to-end: the Batch screen in Debian's Chromium against a confined web host (as `appraise serve` runs it).
 * The CSV is chosen with the page's file input and uploaded into the workspace's files/uploads/; its columns are
 * checked at once; the run shows its summary, the rows that could not be valued (with the file line and reason)
 * and a preview; the results download through the browser and equal the file the job wrote. A file over the upload
 * limit, and a typed path outside the allowed folders, are refused in words. Screenshots: test-results/e2e/batch-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Page } from 'playwright-core';
import { CsvTokenizer } from '../../core/ingest/csv-tokenizer.js';
import { kcConfigPath, kcCsv, repoRoot } from '../helpers/temp-workspace.js';
import { kcSalesLines } from '../helpers/kc-sales-lines.js';
import { browserSkipReason } from './browser.js';
import { openApp, type OpenApp } from './open-app.js';

const skip = browserSkipReason();
if (skip) console.warn(`e2e (batch) skipped: ${skip}`);

const ROWS = 40;
// Data rows (0-based) the test breaks: column and bad value.
const BROKEN = new Map<number, [string, string]>([
  [4, ['sqft_living', 'lots']],
  [21, ['bedrooms', '99']],
]);
const LIMIT = 256 * 1024;
const bundled = join(repoRoot, 'models', 'king-county');

const parse = (text: string) => {
  const t = new CsvTokenizer({ delimiter: ',', maxRecordBytes: 1 << 20 });
  return [...t.push(text), ...t.end()].map((r) => ('fields' in r ? r.fields : []));
};

describe.skipIf(skip !== null)('the Batch screen: file input, run, summary, failed rows, download', () => {
  let e2e: OpenApp;
  let page: Page;
  let file = '';

  beforeAll(async () => {
    e2e = await openApp({
      // Confined as `appraise serve` is: the workspace's files/ and, to read, the bundled demo and model.
      host: {
        demo: { csv: kcCsv, config: kcConfigPath },
        processName: 'none',
        confine: { allowDirs: [], readOnlyDirs: [bundled, dirname(kcCsv), dirname(kcConfigPath)] },
      },
      webHost: { maxUploadBytes: LIMIT },
      goto: false,
      seed: async (app) => {
        // The schema batch files are matched to is the workspace's data; a few hundred sales of it do.
        const sales = join(app.services.workspace.dir, 'files', 'sales.csv');
        writeFileSync(sales, readFileSync(kcCsv, 'utf8').split('\n').slice(0, 300).join('\n'));
        await app.services.datasets.ingest({ file: sales, config: kcConfigPath });
        app.services.models.promote(app.services.models.importFrom(join(bundled, 'model.onnx'), join(bundled, 'manifest.json')).id);
      },
    });
    page = e2e.page;
    const { lines, col } = kcSalesLines();
    const rows = lines.slice(1, ROWS + 1).map((l, i) => {
      const b = BROKEN.get(i);
      if (!b) return l;
      const f = l.split(',');
      f[col(b[0])] = b[1];
      return f.join(',');
    });
    // Outside the workspace and every allowed folder: only an upload gets it to the confined host.
    file = join(e2e.dir, 'march listings.csv');
    writeFileSync(file, [lines[0], ...rows].join('\n'));
  }, 120_000);

  afterAll(() => e2e?.close());

  it('refuses a typed path outside the allowed folders, in words', async () => {
    await page.goto(e2e.host.url);
    await e2e.nav('Batch');
    await page.locator('input[name=source]').fill(file);
    await page.getByRole('button', { name: 'Check the columns' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'outside the folders this app may read' });
    await alert.waitFor({ timeout: 10_000 });
    expect(await alert.textContent()).toContain('march listings.csv');
    await alert.getByRole('button', { name: 'Dismiss the message' }).click();
  });

  it('uploads the chosen file, checks its columns, values it and shows the summary, failed rows and preview', async () => {
    await page.getByTestId('batch-file').setInputFiles(file);
    await page.getByTestId('batch-uploaded').getByText('march listings.csv').waitFor({ timeout: 10_000 });
    const source = await page.locator('input[name=source]').inputValue();
    // Stored in the workspace's confined uploads folder, byte for byte.
    expect(dirname(dirname(source))).toBe(join(e2e.app.services.workspace.dir, 'files', 'uploads'));
    expect(readFileSync(source, 'utf8')).toBe(readFileSync(file, 'utf8'));
    // The columns are checked as soon as the file is in.
    await page.getByTestId('batch-inspection').getByText('Every required column is there').waitFor({ timeout: 10_000 });
    await e2e.shot('batch-1-uploaded');

    await page.getByRole('button', { name: 'Value the file' }).click();
    const result = page.getByTestId('batch-result');
    await result.waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('batch-summary').textContent()).toMatch(
      new RegExp(`^${ROWS - BROKEN.size} of ${ROWS} properties valued, ${BROKEN.size} could not be, in [\\d.]+ s with model`),
    );
    // The result card is brought into view (it was below the fold).
    expect(await result.evaluate((el) => el.getBoundingClientRect().top < (globalThis as unknown as { innerHeight: number }).innerHeight)).toBe(true);

    const failures = await page.getByTestId('batch-failures').locator('tbody tr').all();
    expect(failures).toHaveLength(BROKEN.size);
    const broken = [...BROKEN];
    for (const [i, tr] of failures.entries()) {
      const [line, row, why] = await tr.locator('td').allTextContents();
      // The file's own line numbers: the header is line 1.
      expect(Number(line)).toBe(broken[i][0] + 2);
      expect(Number(row)).toBe(broken[i][0]);
      expect(why).toContain(broken[i][1][0]);
    }

    // The download is the file the job wrote beside the upload.
    const output = source.replace(/\.csv$/, '.valued.csv');
    const written = parse(readFileSync(output, 'utf8'));
    expect(written).toHaveLength(ROWS + 1);
    const previewHead = await page.getByTestId('batch-preview').locator('thead th').allTextContents();
    expect(previewHead).toEqual(written[0]);
    const firstRow = await page.getByTestId('batch-preview').locator('tbody tr').first().locator('td').allTextContents();
    expect(firstRow).toEqual(written[1]);
    await e2e.shot('batch-2-done', true);
    await page.setViewportSize({ width: 1024, height: 700 });
    await e2e.shot('batch-2-done-1024x700');
    await page.setViewportSize({ width: 1280, height: 800 });

    const download = page.waitForEvent('download');
    await page.getByTestId('batch-download').click();
    const saved = join(e2e.dir, 'downloaded.csv');
    const d = await download;
    expect(d.suggestedFilename()).toBe('march listings.valued.csv');
    await d.saveAs(saved);
    expect(readFileSync(saved, 'utf8')).toBe(readFileSync(output, 'utf8'));
    const errorAt = written[0].indexOf('appraise_error');
    expect(errorAt).toBeGreaterThan(0);
    for (const [row, [column]] of BROKEN) expect(written[row + 1][errorAt]).toContain(column);
    // Each output row starts with the input row as written, then its file line (issue 11: keep the input columns).
    const input = parse(readFileSync(file, 'utf8'));
    const width = input[0].length;
    expect(written[0].slice(0, width + 1)).toEqual([...input[0], 'appraise_line']);
    for (let i = 1; i <= ROWS; i++) expect(written[i].slice(0, width + 1)).toEqual([...input[i], String(i + 1)]);
  }, 120_000);

  it('refuses a file over the upload limit in words, and keeps nothing of it', async () => {
    const uploads = join(e2e.app.services.workspace.dir, 'files', 'uploads');
    const before = readdirSync(uploads).sort();
    const big = join(e2e.dir, 'whole county.csv');
    writeFileSync(big, `${readFileSync(file, 'utf8')}\n`.repeat(Math.ceil(LIMIT / statSync(file).size) + 1));
    await page.getByTestId('batch-file').setInputFiles(big);
    const alert = page.getByRole('alert').filter({ hasText: 'upload limit' });
    await alert.waitFor({ timeout: 10_000 });
    expect(await alert.textContent()).toMatch(/"whole county\.csv" is [\d.]+ MB, over this app's upload limit of 0\.3 MB/);
    await e2e.shot('batch-3-too-large');
    expect(readdirSync(uploads).sort()).toEqual(before);
  }, 60_000);
});
