import type { ModelStore } from '../models/model-store.js';
import { invalidInput } from '../common/errors.js';
import { buildMonitoringReport } from './monitoring-report.js';
import type { MonitoringReport, SaleLink } from './monitoring-schemas.js';
import type { PredictionLog, SaleRecord } from './prediction-log.js';
import { readSalesFile } from './sales-file.js';

export interface ReportOptions {
  /** Model id, prefix, name or 'champion' (default). */
  model?: string;
  /** ISO date or date-time; only predictions made at or after it. */
  since?: string;
  until?: string;
}

export interface SalesLinkResult {
  /** Sales that matched at least one logged prediction, and how many predictions they were linked to. */
  matched: number;
  predictions: number;
  /** Property ids with no logged prediction awaiting a sale (first 100). */
  unmatched: string[];
  unmatchedCount: number;
  /** Rows of a sales file that could not be read (first 100), with the reason. */
  problems: { line: number; message: string }[];
}

export interface MonitoringServiceApi {
  report(options?: ReportOptions): MonitoringReport;
  /** Links the actual sale price to one logged valuation. */
  recordSale(predictionId: string, price: number, saleDate?: string | null): SaleLink;
  /** Links sales to logged valuations by the schema's identifier column (one transaction). */
  recordSales(sales: SaleRecord[], options?: { model?: string }): SalesLinkResult;
  /** Reads a sales CSV in the model's schema and links its sales by property id. */
  recordSalesFile(file: string, options?: { model?: string }): Promise<SalesLinkResult>;
}

function isoTime(value: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms))
    throw invalidInput(`${field} "${value}" is not an ISO date or time (e.g. 2015-03-01)`, [{ field, message: 'use YYYY-MM-DD' }]);
  return new Date(ms).toISOString();
}

/** Monitoring of the models in one workspace: the report over the prediction log, and linking sale prices to it. */
export class MonitoringService implements MonitoringServiceApi {
  constructor(
    private readonly log: PredictionLog,
    private readonly models: ModelStore,
  ) {}

  report(options: ReportOptions = {}): MonitoringReport {
    const since = isoTime(options.since, 'since');
    const until = isoTime(options.until, 'until');
    if (since && until && since >= until) throw invalidInput(`since (${since}) must be before until (${until})`);
    const stored = this.models.load(options.model ?? 'champion');
    return buildMonitoringReport({ manifest: stored.manifest, summary: stored.summary, log: this.log, filter: { since, until } });
  }

  recordSale(predictionId: string, price: number, saleDate: string | null = null): SaleLink {
    const p = this.log.recordSale(predictionId, price, saleDate);
    return {
      predictionId: p.id,
      modelId: p.modelId,
      predictedAt: p.predictedAt,
      estimate: p.estimate,
      salePrice: price,
      saleDate: p.saleDate,
      ratio: p.estimate / price,
    };
  }

  recordSales(sales: SaleRecord[], options: { model?: string } = {}): SalesLinkResult {
    const modelId = options.model ? this.models.resolve(options.model) : undefined;
    const r = this.log.recordSales(sales, { modelId });
    return { matched: r.matched, predictions: r.predictions, unmatched: r.unmatched.slice(0, 100), unmatchedCount: r.unmatched.length, problems: [] };
  }

  async recordSalesFile(file: string, options: { model?: string } = {}): Promise<SalesLinkResult> {
    const manifest = this.models.manifest(options.model ?? 'champion');
    const { sales, problems } = await readSalesFile(file, manifest.datasetConfig);
    return { ...this.recordSales(sales, options), problems: problems.slice(0, 100) };
  }
}
