import type Database from 'better-sqlite3';
import { AppraiseError } from '../common/errors.js';
import type { DatasetStore } from '../datasets/dataset-store.js';
import type { ModelStore, StoredModel } from '../models/model-store.js';
import { compileFeatureTransform, type CompiledTransform, type FeatureOp } from '../features/feature-transform.js';
import type { NormalizedValue } from '../schema/column-parser.js';
import { validateProperty } from '../schema/row-validator.js';
import { todayIso } from '../schema/date-format.js';
import { TreeShapExplainer } from '../learner/model/tree-shap.js';
import { OnnxSession } from '../inference/onnx-session.js';
import type { JobControl } from '../common/job-control.js';
import { intervalAround } from '../training/conformal-intervals.js';
import { ComparableSalesIndex } from './comparable-sales.js';
import type { Valuation, FeatureContribution, ScoreProgress, ScoreResult } from './valuation-schemas.js';
import { scoreToFile } from './score-to-file.js';
import { toBothSpaces } from './prediction-space.js';

interface LoadedModel {
  stored: StoredModel;
  compiled: CompiledTransform;
  session: OnnxSession;
  explainer: TreeShapExplainer | null;
  comparables: ComparableSalesIndex | null;
}

/**
 * Values properties with a registered model: validation against the model's schema, ONNX inference, TreeSHAP
 * reasons, conformal interval, comparable sales. Loaded models (session, explainer, comparables index) are cached
 * per model id; the service owns them and releases them in `close()`.
 */
export interface ScoreOptions {
  /** For CSV sources: schema column → the file's own column name, for files that name columns differently. */
  columnMap?: Record<string, string>;
}

export interface ValuationServiceApi {
  /** One property, given with the dataset's own column names and formats. */
  value(model: string, input: Record<string, unknown>, options?: { valuationDate?: string }): Promise<Valuation>;
  score(model: string, source: string, out: string, job?: JobControl<ScoreProgress>, options?: ScoreOptions): Promise<ScoreResult>;
}

export class ValuationService implements ValuationServiceApi {
  private readonly loaded = new Map<string, Promise<LoadedModel>>();

  constructor(
    private readonly datasets: DatasetStore,
    private readonly models: ModelStore,
    private readonly db: Database.Database,
  ) {}

  private load(ref: string): Promise<LoadedModel> {
    const id = this.models.resolve(ref);
    let p = this.loaded.get(id);
    if (!p) {
      p = (async () => {
        const stored = this.models.load(id);
        const compiled = compileFeatureTransform(stored.manifest.featureTransform);
        const session = await OnnxSession.create(stored.onnx);
        let comparables: ComparableSalesIndex | null = null;
        const dsId = stored.manifest.trainingDatasetId;
        if (dsId) {
          try {
            comparables = ComparableSalesIndex.fromDataset(this.datasets, this.datasets.get(dsId), stored.manifest.datasetConfig);
          } catch {
            comparables = null; // training data deleted or elsewhere: valuations still work, without comparables
          }
        }
        return { stored, compiled, session, explainer: stored.ensemble ? new TreeShapExplainer(stored.ensemble) : null, comparables };
      })();
      this.loaded.set(id, p);
      p.catch(() => this.loaded.delete(id));
    }
    return p;
  }

  async value(modelRef: string, input: Record<string, unknown>, options: { valuationDate?: string } = {}): Promise<Valuation> {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new AppraiseError('INVALID_INPUT', 'the property must be an object of column name → value');
    }
    const m = await this.load(modelRef);
    const manifest = m.stored.manifest;
    const config = manifest.datasetConfig;
    const t = manifest.featureTransform;
    const saleDate = t.saleDate;
    const warnings: string[] = [];
    const given = { ...input };
    const skip = [config.target.column];
    let valuationDate: string | null = null;
    // An explicit valuation date wins; else the sale-date field of the input; else today.
    const noDateGiven = saleDate !== null && (given[saleDate] === undefined || given[saleDate] === null || given[saleDate] === '');
    if (saleDate && (options.valuationDate !== undefined || noDateGiven)) {
      valuationDate = options.valuationDate ?? todayIso();
      if (!/^\d{4}-\d{2}-\d{2}$/.test(valuationDate) || Number.isNaN(Date.parse(valuationDate))) {
        throw new AppraiseError('INVALID_INPUT', `valuation date "${valuationDate}" is not an ISO date (YYYY-MM-DD)`, {
          details: [{ field: 'valuationDate', message: 'use YYYY-MM-DD' }],
        });
      }
      delete given[saleDate];
      skip.push(saleDate);
    }
    if (given[config.target.column] !== undefined) delete given[config.target.column];
    const checked = validateProperty(config, given, { skip });
    if (!checked.ok) {
      throw new AppraiseError(
        'INVALID_INPUT',
        `the property has ${checked.errors.length} problem(s):\n${checked.errors.map((e) => `  ${e.message}`).join('\n')}`,
        { details: checked.errors },
      );
    }
    const values = { ...checked.values };
    if (saleDate) {
      if (valuationDate) values[saleDate] = valuationDate;
      else valuationDate = values[saleDate] as string;
    }
    const range = manifest.saleDateRange;
    if (range && valuationDate && (valuationDate > range.last || valuationDate < range.first)) {
      warnings.push(
        `the valuation date ${valuationDate} is outside the sales this model learned from (${range.first} to ${range.last}); ` +
          `it values the property at market levels of ${valuationDate > range.last ? range.last : range.first} — retrain on recent sales for current values`,
      );
    }
    const { vector, warnings: featureWarnings } = m.compiled.fromRecord(values);
    warnings.push(...featureWarnings);
    const pred = await m.session.run(vector, 1, m.compiled.nFeatures);
    const { raw, estimate } = toBothSpaces(manifest, m.compiled, pred.raw[0], pred.value[0]);
    if (!Number.isFinite(estimate)) throw new AppraiseError('INTERNAL', `the model produced a non-finite estimate (${estimate}) for a valid property`);
    const inverse = m.compiled.inverseTarget;
    const intervals = manifest.intervals.map((c) => ({ level: c.level, ...intervalAround(raw, c.quantile, inverse) })).sort((a, b) => a.level - b.level);
    let contributions: FeatureContribution[] = [];
    let baseValue = NaN;
    if (m.explainer) {
      const shap = m.explainer.explain(vector);
      baseValue = inverse(shap.expectedValue);
      contributions = toCurrency(m.compiled.names, vector, shap.contributions, baseValue, (i) => displayValueOf(t.features[i].spec, values, vector[i]));
    } else warnings.push('this model was imported without its trees, so the reasons behind the value are not available');
    const k = config.comparables?.k ?? 5;
    const comparables = m.comparables ? m.comparables.nearest(values, k) : [];
    if (!m.comparables) warnings.push('the training sales of this model are not in this workspace, so no comparable sales are shown');
    const primary = intervals.find((i) => i.level === 0.8) ?? intervals[0] ?? { level: 0, low: estimate, high: estimate };
    return {
      modelId: m.stored.summary.id,
      valuationDate,
      estimate,
      interval: primary,
      intervals,
      baseValue,
      contributions,
      comparables,
      warnings,
      input: values,
    };
  }

  async score(
    modelRef: string,
    source: string,
    out: string,
    job: JobControl<{ rows: number; total: number }> = {},
    options: ScoreOptions = {},
  ): Promise<ScoreResult> {
    const m = await this.load(modelRef);
    return scoreToFile({ model: m.stored, compiled: m.compiled, datasets: this.datasets, source, out, job, db: this.db, columnMap: options.columnMap });
  }

  async close(): Promise<void> {
    const all = [...this.loaded.values()];
    this.loaded.clear();
    for (const p of all) {
      try {
        await (await p).session.close();
      } catch {
        // a model that failed to load has nothing to release
      }
    }
  }
}

/**
 * TreeSHAP works in log-price space, where contributions add up; in currency they multiply. For a chart in
 * currency the features are applied one after another, largest effect first, and each gets the change in value
 * its factor makes at that point: the amounts then add up exactly to (estimate − base value) and never blow up
 * when log contributions of opposite signs cancel out.
 */
function toCurrency(
  names: string[],
  vector: Float32Array,
  phi: Float64Array,
  base: number,
  display: (i: number) => string | number | null,
): FeatureContribution[] {
  const order = names.map((_, i) => i).sort((a, b) => Math.abs(phi[b]) - Math.abs(phi[a]) || a - b);
  let running = 0;
  return order.map((i) => {
    const before = base * Math.exp(running);
    running += phi[i];
    return {
      feature: names[i],
      featureValue: Number.isNaN(vector[i]) ? null : vector[i],
      displayValue: display(i),
      value: phi[i],
      amount: base * Math.exp(running) - before,
    };
  });
}

function displayValueOf(spec: FeatureOp, values: Record<string, NormalizedValue>, computed: number): string | number | null {
  if ('column' in spec) return values[spec.column] ?? null;
  return Number.isNaN(computed) ? null : Math.round(computed * 100) / 100;
}
