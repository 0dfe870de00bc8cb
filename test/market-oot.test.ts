import { afterAll, beforeAll, expect, test } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempServices } from './helpers/temp-workspace.js';
import { parseConfig } from '../core/config/load-config.js';
import { generateSales, salesCsv, MARKET_TEST_YAML } from './helpers/market-sales.js';
import type { TrainResult } from '../core/training/training-schemas.js';
import { execFileSync } from 'node:child_process';
import { buildFormSchema } from '../core/valuation/valuation-form.js';
import { DEFAULT_REPORT_SETTINGS } from '../core/valuation/report-settings-schemas.js';
import { valuationReportPdf } from '../renderer/src/pdf-report.js';

/**
 * Out-of-time accuracy on a market that moves (issue 15's acceptance, on sales with a known index): one region
 * rising 2 % a month for two years, one flat; expanding-window folds (each block predicted from the earlier ones).
 * Every block's median sales ratio must stay within 0.98–1.02 — the IAAO band — with the index. The expected band
 * is the ratio study's, not anything the code computed. With the trees splitting on the sale date's position in
 * time (day number, month index), the flat region's last blocks were under-valued by about 4 % (the trees put
 * every later sale into the window's last bin); market-training.ts `learnerData` keeps those features out.
 */
const MONTHS = 24;
const sales = generateSales({
  seed: 5,
  months: MONTHS,
  paths: { north: Array.from({ length: MONTHS }, (_, m) => 0.02 * m), south: Array.from({ length: MONTHS }, () => 0) },
  perRegion: { north: 6000, south: 4000 },
});
const s = tempServices();
afterAll(() => s.cleanup());
let r: TrainResult;

beforeAll(async () => {
  const csv = join(s.dir, 'sales.csv');
  writeFileSync(csv, salesCsv(sales));
  const ds = await s.datasets.ingest({ file: csv, config: parseConfig(`${MARKET_TEST_YAML}market: { region: region }\n`), name: 'moving' });
  r = await s.training.train({ dataset: ds.datasetId, foldScheme: 'time', folds: 5, tune: 'off', seed: 1 });
}, 300_000);

test('every out-of-time block has a median ratio within 0.98–1.02 when the market moves', () => {
  expect(r.outOfTime?.scheme).toMatch(/time-ordered 5 blocks/);
  expect(r.market?.regions).toBe(2);
  const blocks = r.outOfTime!.folds;
  expect(blocks).toHaveLength(4);
  console.log('out-of-time median ratio per block:', blocks.map((b) => b.medianRatio.toFixed(4)).join(' '));
  for (const [i, b] of blocks.entries()) {
    expect(b.n, `block ${i + 2}`).toBeGreaterThan(1500);
    expect(b.medianRatio, `block ${i + 2}`).toBeGreaterThanOrEqual(0.98);
    expect(b.medianRatio, `block ${i + 2}`).toBeLessThanOrEqual(1.02);
  }
});

test('the trees never split on the sale date: its features carry no weight in the reasons', async () => {
  const v = await s.valuation.value(r.modelId, { area: '1500', quality: '6', zone: 'z3', region: 'south', date: '2021-12-10' }, { log: false });
  const time = v.contributions.filter((x) => x.feature === 'date' || x.feature === 'sale_month');
  expect(time).toHaveLength(2);
  for (const x of time) expect(Math.abs(x.value), x.feature).toBeLessThan(1e-9);
  // The market carries the time instead: its own line in the reasons.
  expect(v.contributions.some((x) => x.feature === 'market_conditions')).toBe(true);
});

test('the PDF report prints the out-of-time figures before the cross-validated ones', async () => {
  const v = await s.valuation.value(r.modelId, { area: '1500', quality: '6', zone: 'z3', region: 'north', date: '2021-12-10' }, { log: false });
  const manifest = s.models.load(r.modelId).manifest;
  const bytes = await valuationReportPdf(v, buildFormSchema(s.datasets.get('moving')), {
    model: s.models.list().find((m) => m.id === r.modelId) ?? null,
    outOfTime: manifest.outOfTime ?? null,
    settings: DEFAULT_REPORT_SETTINGS,
    reportDate: '2021-12-11',
  });
  const file = join(s.dir, 'report.pdf');
  writeFileSync(file, bytes);
  const text = execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
  const oot = text.indexOf('Out-of-time accuracy');
  expect(oot).toBeGreaterThan(0);
  expect(oot).toBeLessThan(text.indexOf('Cross-validated accuracy'));
  // The per-block median ratios, as training measured them.
  expect(text).toContain(manifest.outOfTime!.folds.map((f) => f.medianRatio.toFixed(3)).join(', '));
});
