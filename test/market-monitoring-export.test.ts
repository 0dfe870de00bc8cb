import { afterAll, beforeAll, expect, test } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempServices } from './helpers/temp-workspace.js';
import { startRegistry, type TestRegistry } from './helpers/registry-fixture.js';
import { parseConfig } from '../core/config/load-config.js';
import { enrolDevice } from '../core/sync/device-enrolment.js';
import { pushReports } from '../core/sync/report-pusher.js';
import { SqliteOutbox } from '../core/sync/sqlite-outbox.js';
import { monitoringReportSchema, type MonitoringReport } from '../core/monitoring/monitoring-schemas.js';
import { reportDetailSchema, reportListSchema } from '../registry/registry-schemas.js';
import { generateSales, salesCsv, MARKET_TEST_YAML } from './helpers/market-sales.js';

/**
 * The local price index travels with the monitoring report (format version 2): the report of a model trained
 * with the index carries that very index (per region, levels, bands, sales), version-1 reports still parse, and
 * the registry's report intake takes the larger report and gives it back to the admin as the device wrote it.
 */
const MONTHS = 12;
const sales = generateSales({
  seed: 3,
  months: MONTHS,
  paths: { north: Array.from({ length: MONTHS }, (_, m) => 0.02 * m), south: Array.from({ length: MONTHS }, () => 0) },
  perRegion: { north: 900, south: 600 },
});
const s = tempServices();
let reg: TestRegistry;
let modelId: string;
let report: MonitoringReport;

beforeAll(async () => {
  const csv = join(s.dir, 'sales.csv');
  writeFileSync(csv, salesCsv(sales));
  const ds = await s.datasets.ingest({ file: csv, config: parseConfig(`${MARKET_TEST_YAML}market: { region: region }\n`), name: 'moving' });
  modelId = (await s.training.train({ dataset: ds.datasetId, folds: 3, tune: 'off', params: { nRounds: 80, learningRate: 0.15 }, seed: 1 })).modelId;
  await s.valuation.value(modelId, { area: '1500', quality: '6', zone: 'z3', region: 'north', date: '2020-12-10' });
  report = s.monitoring.report({ model: modelId });
  reg = await startRegistry();
  await reg.createRepository('north');
}, 240_000);

afterAll(async () => {
  await s.cleanup();
  await reg?.close();
});

test('the report carries the model’s index, per region, and says it is version 2', () => {
  const manifest = s.models.load(modelId).manifest;
  expect(manifest.market).toBeDefined();
  expect(report.format).toBe('appraise-monitoring/2');
  expect(report.market).toEqual(manifest.market);
  expect(report.market!.regions.map((r) => r.region).sort()).toEqual(['north', 'south']);
  expect(report.market!.whole.points).toHaveLength(MONTHS);
  // The document as it leaves the device (JSON) parses back to the same index.
  expect(monitoringReportSchema.parse(JSON.parse(JSON.stringify(report))).market).toEqual(manifest.market);
});

test('a version-1 report (no index) still parses, with the index null; an unknown version is refused', () => {
  const { market: _market, ...rest } = JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
  const v1 = monitoringReportSchema.parse({ ...rest, format: 'appraise-monitoring/1' });
  expect(v1.market).toBeNull();
  expect(monitoringReportSchema.safeParse({ ...rest, format: 'appraise-monitoring/3' }).success).toBe(false);
});

test('the registry takes the report with its index and the admin reads it back as written', async () => {
  const { code } = await reg.admin.createEnrolmentCode('north', 'stable');
  const enrolment = await enrolDevice(s.workspace.dir, reg.url, code, 'market laptop');
  const outbox = new SqliteOutbox(s.workspace.db);
  // As the sync service enqueues it (core/sync/sync-service.ts).
  outbox.enqueue('monitoring-report', { period: { since: null, until: null }, report });
  expect(await pushReports(enrolment, outbox, {})).toMatchObject({ delivered: 1, remaining: 0 });
  const listed = await reg.admin.call('GET', '/admin/reports', undefined, reportListSchema);
  expect(listed.reports).toHaveLength(1);
  const detail = await reg.admin.call('GET', `/admin/reports/${listed.reports[0].id}`, undefined, reportDetailSchema);
  const back = (detail.report as { payload: { report: unknown } }).payload.report;
  expect(monitoringReportSchema.parse(back).market).toEqual(report.market);
});
