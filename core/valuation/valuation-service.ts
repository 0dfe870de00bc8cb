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
import type { Valuation, FeatureContribution, ScoreProgress, ScoreResult, ComparableSale } from './valuation-schemas.js';
import { scoreToFile } from './score-to-file.js';
import { NO_WIDENING, widenedQuantile, widenerFor, type BandWidener } from './band-widening.js';
import { toBothSpaces } from './prediction-space.js';
import { adjustComparables, gridGroupsOf, reconcile } from './adjustment-grid.js';
import type { PredictionSink } from './prediction-sink.js';

interface LoadedModel {
  stored: StoredModel;
  compiled: CompiledTransform;
  session: OnnxSession;
  explainer: TreeShapExplainer | null;
  /** Widens the band where the model knows less (asks the trees what-if questions); null for ONNX-only imports. */
  widener: BandWidener | null;
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

export interface ValueOptions {
  valuationDate?: string;
  /** False: leave this valuation out of the prediction log (the app's own warm-up call). Default true. */
  log?: boolean;
}

export interface ValuationServiceApi {
  /** One property, given with the dataset's own column names and formats. */
  value(model: string, input: Record<string, unknown>, options?: ValueOptions): Promise<Valuation>;
  score(model: string, source: string, out: string, job?: JobControl<ScoreProgress>, options?: ScoreOptions): Promise<ScoreResult>;
}

export class ValuationService implements ValuationServiceApi {
  private readonly loaded = new Map<string, Promise<LoadedModel>>();

  constructor(
    private readonly datasets: DatasetStore,
    private readonly models: ModelStore,
    private readonly db: Database.Database,
    /** Receives every valuation for monitoring (core/monitoring's prediction log); none: nothing is logged. */
    private readonly sink: PredictionSink | null = null,
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
        return {
          stored,
          compiled,
          session,
          explainer: stored.ensemble ? new TreeShapExplainer(stored.ensemble) : null,
          widener: widenerFor(stored),
          comparables,
        };
      })();
      this.loaded.set(id, p);
      p.catch(() => this.loaded.delete(id));
    }
    return p;
  }

  async value(modelRef: string, input: Record<string, unknown>, options: ValueOptions = {}): Promise<Valuation> {
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
    // An imported model's own figures are never trusted: until calibrated on local sales, it says so every time.
    if (manifest.mode === 'imported' && !manifest.calibration)
      warnings.push(
        `this model was imported and is not calibrated on local sales: it has no interval or accuracy figures yet (run: appraise models calibrate ${manifest.modelId.slice(0, 12)} DATASET)`,
      );
    const { vector, warnings: featureWarnings } = m.compiled.fromRecord(values);
    warnings.push(...featureWarnings);
    const pred = await m.session.run(vector, 1, m.compiled.nFeatures);
    const { raw, estimate } = toBothSpaces(manifest, m.compiled, pred.raw[0], pred.value[0]);
    const inverse = m.compiled.inverseTarget;
    // Unseen categories and inputs outside the training range widen the band, and say why.
    const widening = m.widener ? m.widener(vector, (c) => values[c]) : NO_WIDENING;
    warnings.push(...widening.reasons);
    const intervals = manifest.intervals
      .map((c) => ({ level: c.level, ...intervalAround(raw, widenedQuantile(c.quantile, c.level, widening), inverse) }))
      .sort((a, b) => a.level - b.level);
    let contributions: FeatureContribution[] = [];
    let baseValue = NaN;
    if (m.explainer) {
      const shap = m.explainer.explain(vector);
      baseValue = inverse(shap.expectedValue);
      contributions = toCurrency(m.compiled.names, vector, shap.contributions, shap.expectedValue, estimate, inverse, t.target.transform === 'log', (i) =>
        displayValueOf(t.features[i].spec, values, vector[i]),
      );
    } else warnings.push('this model was imported without its trees, so the reasons behind the value are not available');
    const k = config.comparables?.k ?? 5;
    const comparables = m.comparables ? m.comparables.nearest(values, k) : [];
    if (!m.comparables) warnings.push('the training sales of this model are not in this workspace, so no comparable sales are shown');
    // The sales comparison grid, adjustments derived from the model (needs the trees; see adjustment-grid.ts).
    const grid = m.explainer && comparables.length > 0 ? await this.gridFor(m, values, contributions, comparables, estimate) : null;
    const primary = intervals.find((i) => i.level === 0.8) ?? intervals[0] ?? { level: 0, low: estimate, high: estimate };
    let predictionId: string | undefined;
    if (this.sink && options.log !== false) {
      const idColumn = Object.keys(config.dataset.columns).find((c) => config.dataset.columns[c].type === 'identifier');
      const pid = idColumn === undefined ? null : values[idColumn];
      predictionId = this.sink.record({
        modelId: m.stored.summary.id,
        source: 'value',
        predictedAt: new Date().toISOString(),
        valuationDate,
        propertyId: pid === null || pid === undefined ? null : String(pid),
        input: values,
        features: vector,
        unseen: t.features.flatMap((f, i) => (f.spec.op === 'category' && Number.isNaN(vector[i]) && values[f.spec.column] != null ? [i] : [])),
        estimate,
        interval: intervals.length ? primary : null,
      });
    }
    return {
      ...(predictionId === undefined ? {} : { predictionId }),
      modelId: m.stored.summary.id,
      valuationDate,
      estimate,
      interval: primary,
      intervals,
      baseValue,
      contributions,
      comparables: grid?.comparables ?? comparables,
      ...(grid?.reconciliation ? { reconciliation: grid.reconciliation } : {}),
      warnings,
      input: values,
    };
  }

  /**
   * Explains each comparable as the model sees it (its own record, at its own sale date: one batched ONNX call
   * for the estimates, TreeSHAP for the contributions, both as for the subject) and builds the grid. Null when
   * the comparables' records are not in this workspace.
   */
  private async gridFor(
    m: LoadedModel,
    values: Record<string, NormalizedValue>,
    contributions: FeatureContribution[],
    sales: ComparableSale[],
    estimate: number,
  ): Promise<{ comparables: Valuation['comparables']; reconciliation: Valuation['reconciliation'] } | null> {
    const manifest = m.stored.manifest;
    const t = manifest.featureTransform;
    const ds = manifest.trainingDatasetId ? this.datasets.find(manifest.trainingDatasetId) : null;
    if (!ds || !m.explainer) return null;
    const records = this.datasets.readRows(
      ds,
      sales.map((c) => c.rowIndex),
      t.columns.map((c) => c.name),
    );
    const found = sales.filter((c) => records.has(c.rowIndex));
    if (found.length === 0) return null;
    const nF = m.compiled.nFeatures;
    const X = new Float32Array(found.length * nF);
    found.forEach((c, i) => X.set(m.compiled.fromRecord(records.get(c.rowIndex)!).vector, i * nF));
    const pred = await m.session.run(X, found.length, nF);
    const inverse = m.compiled.inverseTarget;
    const explained = found.map((sale, i) => {
      const vector = X.subarray(i * nF, (i + 1) * nF);
      const shap = m.explainer!.explain(vector);
      const own = toBothSpaces(manifest, m.compiled, pred.raw[i], pred.value[i]).estimate;
      const explainedContributions = toCurrency(
        m.compiled.names,
        vector,
        shap.contributions,
        shap.expectedValue,
        own,
        inverse,
        t.target.transform === 'log',
        () => null,
      );
      return { sale, explained: { contributions: explainedContributions, values: records.get(sale.rowIndex)! } };
    });
    const columnOf = new Map(t.features.map((f) => [f.name, 'column' in f.spec ? f.spec.column : null]));
    // Grid rows come from the training data's config as stored in this workspace: display keys (gridGroup) may
    // have been added to it after the model was trained; they are not hashed, so it is the same schema.
    const groups = gridGroupsOf(ds.config, t.features);
    const adjusted = adjustComparables({ contributions, values }, explained, groups, (f) => columnOf.get(f) ?? null);
    return { comparables: adjusted, reconciliation: reconcile(adjusted, estimate) ?? undefined };
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

  /** Drops a cached model so the next valuation reads its record again (after `models calibrate` changed it). */
  async forget(modelId: string): Promise<void> {
    const p = this.loaded.get(modelId);
    if (!p) return;
    this.loaded.delete(modelId);
    try {
      await (await p).session.close();
    } catch {
      // a model that failed to load has nothing to release
    }
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
 * TreeSHAP works in the transformed-target space, where contributions add up. In currency they add up only for
 * `transform: none`; for `log` they multiply and for `log1p` neither. So the features are applied one after
 * another, largest effect first, and each gets the change in value its contribution makes at that point:
 * inverse(base + φ₁ + … + φᵢ) − inverse(base + φ₁ + … + φᵢ₋₁). The amounts then add up exactly to
 * (estimate − base value) whatever the transform, equal φ itself for `none`, and never blow up when
 * contributions of opposite signs cancel out. For `log` each feature's factor exp(φ) is given too.
 *
 * TreeSHAP explains the trees in double precision while the estimate comes from ONNX Runtime in single
 * precision: the two differ by float32 rounding (~1e-7 of the price). That remainder is shared out in proportion
 * to each amount, so the chart adds up to the estimate shown, not to a figure one cent away.
 */
export function toCurrency(
  names: string[],
  vector: Float32Array,
  phi: Float64Array,
  baseRaw: number,
  estimate: number,
  inverse: (t: number) => number,
  multiplicative: boolean,
  display: (i: number) => string | number | null,
): FeatureContribution[] {
  const order = names.map((_, i) => i).sort((a, b) => Math.abs(phi[b]) - Math.abs(phi[a]) || a - b);
  let running = baseRaw;
  const amounts = order.map((i) => {
    const before = inverse(running);
    running += phi[i];
    return inverse(running) - before;
  });
  const remainder = estimate - inverse(baseRaw) - amounts.reduce((a, b) => a + b, 0);
  const scale = amounts.reduce((a, b) => a + Math.abs(b), 0);
  return order.map((i, k) => ({
    feature: names[i],
    featureValue: Number.isNaN(vector[i]) ? null : vector[i],
    displayValue: display(i),
    value: phi[i],
    amount: amounts[k] + (scale > 0 ? (remainder * Math.abs(amounts[k])) / scale : 0),
    ...(multiplicative ? { factor: Math.exp(phi[i]) } : {}),
  }));
}

function displayValueOf(spec: FeatureOp, values: Record<string, NormalizedValue>, computed: number): string | number | null {
  if ('column' in spec) return values[spec.column] ?? null;
  return Number.isNaN(computed) ? null : Math.round(computed * 100) / 100;
}
