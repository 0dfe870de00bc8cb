import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { AppraiseError } from '../common/errors.js';
import { fileAccess } from '../common/file-access.js';
import type { DatasetStore } from '../datasets/dataset-store.js';
import type { ModelStore, StoredModel } from '../models/model-store.js';
import { compileFeatureTransform, type CompiledTransform, type FeatureOp } from '../features/feature-transform.js';
import type { NormalizedValue } from '../schema/column-parser.js';
import { validateProperty } from '../schema/row-validator.js';
import { todayIso } from '../schema/date-format.js';
import { TreeShapExplainer } from '../learner/model/tree-shap.js';
import { ModelProcess, openIsolatedSession, type IsolatedSession } from '../inference/model-process.js';
import type { JobControl } from '../common/job-control.js';
import { ComparableSalesIndex } from './comparable-sales.js';
import type {
  Valuation,
  FeatureContribution,
  ScoreProgress,
  ScoreResult,
  ComparableSale,
  GridEdits,
  ValuationGrid,
  AdjustedComparable,
  TypicalSale,
} from './valuation-schemas.js';
import { typicalSale } from './typical-sale.js';
import { scoreToFile } from './score-to-file.js';
import { NO_WIDENING, widenerFor, type BandWidener } from './band-widening.js';
import { compilePropertyBand, type BandMaker } from './property-band.js';
import { comparablesDisagreement, sparseNeighbourhood } from './local-evidence.js';
import { toBothSpaces } from './prediction-space.js';
import { adjustComparables, applyGridEdits, gridGroupsOf, reconcileGrid } from './adjustment-grid.js';
import type { PredictionSink } from './prediction-sink.js';
import { auditedAsync, type AuditTrail } from '../audit/audit-trail.js';
import {
  comparableAdjustment,
  MARKET_FEATURE,
  marketConditionsFor,
  marketContribution,
  marketWarning,
  reinflated,
  withMarketFeature,
  withNowcastSpread,
} from './market-conditions.js';

interface LoadedModel {
  stored: StoredModel;
  compiled: CompiledTransform;
  session: IsolatedSession;
  explainer: TreeShapExplainer | null;
  /** Widens the band where the model knows less (asks the trees what-if questions); null for ONNX-only imports. */
  widener: BandWidener | null;
  /** The property's band, FSD and tier (per property when the model has per-property intervals). */
  band: BandMaker;
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
  /** False: leave these scores out of the prediction log. Default true. */
  log?: boolean;
}

export interface ValueOptions {
  valuationDate?: string;
  /** False: leave this valuation out of the prediction log (the app's own warm-up call). Default true. */
  log?: boolean;
  /**
   * True: build the sales comparison grid (explains every comparable as well: about four times the work of a
   * plain valuation). Default false — the window asks for it when its grid panel is shown. Implied by `edits`.
   */
  grid?: boolean;
  /** The appraiser's exclusions, added sales and overridden lines (see `applyGridEdits`). */
  edits?: GridEdits;
}

/** What `valuation.grid` takes: the property as for `value`, and the appraiser's edits. */
export interface GridRequest {
  model: string;
  input: Record<string, unknown>;
  valuationDate?: string;
  edits?: GridEdits;
}

export interface ValuationServiceApi {
  /** One property, given with the dataset's own column names and formats. */
  value(model: string, input: Record<string, unknown>, options?: ValueOptions): Promise<Valuation>;
  /** The adjustment grid of a property on request, with the appraiser's edits applied (never logged). */
  grid(request: GridRequest): Promise<ValuationGrid>;
  /** The real sale the valuation form starts from: the medoid of the model's training data on the form's fields. */
  typical(request: { model: string }): Promise<TypicalSale>;
  score(model: string, source: string, out: string, job?: JobControl<ScoreProgress>, options?: ScoreOptions): Promise<ScoreResult>;
}

export class ValuationService implements ValuationServiceApi {
  private readonly loaded = new Map<string, Promise<LoadedModel>>();
  /** Medoids by dataset id: a dataset version never changes, so each is searched once per process. */
  private readonly typicalByDataset = new Map<string, TypicalSale | null>();
  /**
   * Runs every model's graph in a child process with a time limit and a memory cap (issue 14, #3): a hostile or
   * damaged model cannot freeze or starve the app. Started on the first valuation; owned here, ended in close().
   */
  private readonly inference = new ModelProcess();

  constructor(
    private readonly datasets: DatasetStore,
    private readonly models: ModelStore,
    private readonly db: Database.Database,
    /** Receives every valuation for monitoring (core/monitoring's prediction log); none: nothing is logged. */
    private readonly sink: PredictionSink | null = null,
    /** Where batch scoring runs (valuations exported to a file or table) are recorded (core/audit); none: not recorded. */
    private readonly audit?: AuditTrail,
    /** A second connection to the workspace database (batch exports to a table); default: the same file, unencrypted. */
    private readonly connect: () => Database.Database = () => {
      const db = new (this.db.constructor as new (file: string) => Database.Database)(this.db.name);
      db.pragma('busy_timeout = 5000');
      return db;
    },
  ) {}

  private load(ref: string): Promise<LoadedModel> {
    const id = this.models.resolve(ref);
    let p = this.loaded.get(id);
    if (!p) {
      p = (async () => {
        const stored = this.models.load(id);
        const compiled = compileFeatureTransform(stored.manifest.featureTransform);
        const session = await openIsolatedSession(this.inference, id, stored.onnx);
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
          band: compilePropertyBand(stored.manifest, compiled.inverseTarget),
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
    // A model with a price index moves its constant-date value to the valuation date (market-conditions.ts);
    // past the index's horizon this refuses.
    const market = manifest.market && valuationDate ? marketConditionsFor(manifest.market, range, values, valuationDate) : null;
    const featureValues = market && saleDate ? { ...values, [saleDate]: market.featureDate } : values;
    if (!market && range && valuationDate && (valuationDate > range.last || valuationDate < range.first)) {
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
    const { vector, warnings: featureWarnings } = m.compiled.fromRecord(featureValues);
    warnings.push(...featureWarnings);
    const pred = await m.session.run(vector, 1, m.compiled.nFeatures);
    const constantDate = toBothSpaces(manifest, m.compiled, pred.raw[0], pred.value[0]);
    const { raw, estimate } = market ? reinflated(constantDate, market.adjustment.logFactor, m.compiled) : constantDate;
    const inverse = m.compiled.inverseTarget;
    // Unseen categories and inputs outside the training range widen the band, and say why.
    const modelWidening = m.widener ? m.widener(vector, (c) => values[c]) : NO_WIDENING;
    warnings.push(...modelWidening.reasons);
    // After the last sale the nowcast's uncertainty widens the band too, and the warning says by how much.
    const widening = market ? withNowcastSpread(modelWidening, market.adjustment, estimate, m.compiled) : modelWidening;
    const marketNote =
      market && valuationDate ? marketWarning(manifest.market!, market.adjustment, valuationDate, manifest.intervals, modelWidening, widening) : null;
    if (marketNote) warnings.push(marketNote);
    let contributions: FeatureContribution[] = [];
    let baseValue = NaN;
    if (m.explainer) {
      const shap = m.explainer.explain(vector);
      baseValue = inverse(shap.expectedValue);
      // The market's move from the reference period is a reason of its own (the time row of the grid).
      const r = market
        ? withMarketFeature(m.compiled.names, vector, shap.contributions, marketContribution(constantDate.raw, raw))
        : { names: m.compiled.names, vector, phi: shap.contributions };
      contributions = toCurrency(r.names, r.vector, r.phi, shap.expectedValue, estimate, inverse, t.target.transform === 'log', (i) =>
        i < t.features.length ? displayValueOf(t.features[i].spec, values, vector[i]) : (valuationDate ?? null),
      );
    } else warnings.push('this model was imported without its trees, so the reasons behind the value are not available');
    const k = config.comparables?.k ?? 5;
    const comparables: ComparableSale[] = m.comparables ? m.comparables.nearest(values, k) : [];
    if (!m.comparables) warnings.push('the training sales of this model are not in this workspace, so no comparable sales are shown');
    const edits = options.edits;
    const added = edits && edits.added.length > 0 ? this.addedSales(m, values, edits.added, comparables) : [];
    comparables.push(...added);
    // The sales comparison grid, adjustments derived from the model (needs the trees; see adjustment-grid.ts),
    // only when asked for: it explains every comparable as well, several times the work of the valuation.
    const wantGrid = options.grid === true || edits !== undefined;
    const built = wantGrid && m.explainer && comparables.length > 0 ? await this.gridFor(m, values, contributions, comparables) : null;
    if (edits && !built && (edits.excluded.length || edits.overrides.length || edits.added.length))
      throw new AppraiseError('INVALID_INPUT', 'this model has no adjustment grid to change (it needs its trees and its training sales in this workspace)');
    const addedRows = new Set(added.map((c) => c.rowIndex));
    const marked = built?.map((c) => (addedRows.has(c.rowIndex) ? { ...c, added: true } : c)) ?? null;
    const gridComparables = marked ? (edits ? applyGridEdits(marked, edits) : marked) : null;
    const grid = gridComparables ? { comparables: gridComparables, reconciliation: reconcileGrid(gridComparables, estimate) ?? undefined } : null;
    // The band: per property where the model can say so, widened for a lonely property and for comparables that
    // disagree with the estimate (local-evidence.ts), each saying why.
    const sparse = sparseNeighbourhood(m.comparables?.neighbourhood(values, k) ?? null, k);
    if (sparse.reason) warnings.push(sparse.reason);
    const first = m.band(vector, { raw, widening, scale: sparse.scale });
    const disagreement = comparablesDisagreement(grid?.reconciliation, estimate, first.fsd, m.compiled);
    if (disagreement) warnings.push(disagreement.reason);
    const band = disagreement
      ? m.band(vector, { raw, widening: { spread: widening.spread, bias: Math.hypot(widening.bias, disagreement.bias) }, scale: sparse.scale })
      : first;
    const intervals = band.intervals.sort((a, b) => a.level - b.level);
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
      fsd: band.fsd,
      confidenceTier: band.confidenceTier,
      baseValue,
      contributions,
      comparables: grid?.comparables ?? comparables,
      ...(grid?.reconciliation ? { reconciliation: grid.reconciliation } : {}),
      ...(grid && edits ? { gridEdits: edits } : {}),
      warnings,
      input: values,
    };
  }

  async grid(request: GridRequest): Promise<ValuationGrid> {
    const edits = request.edits ?? { excluded: [], added: [], overrides: [] };
    const v = await this.value(request.model, request.input, {
      ...(request.valuationDate ? { valuationDate: request.valuationDate } : {}),
      log: false,
      grid: true,
      edits,
    });
    const comparables = v.comparables.filter((c): c is AdjustedComparable => 'adjustedPrice' in c);
    if (comparables.length === 0)
      throw new AppraiseError(
        'NOT_FOUND',
        v.comparables.length === 0
          ? 'no comparable sales were found for this property, so there is no grid'
          : 'this model cannot derive adjustments (it was imported without its trees, or its training sales are not in this workspace)',
      );
    return { comparables, reconciliation: v.reconciliation ?? null, edits };
  }

  async typical({ model }: { model: string }): Promise<TypicalSale> {
    // The form asks for its typical sale right before the first valuation: start loading the model now, so its
    // session opens while the sale is searched for (a failure here is met again, and reported, by `value`).
    this.load(model).catch(() => undefined);
    // The summary is enough: the typical sale needs the model's training data, not its session.
    const datasetId = this.models.summary(model).datasetId;
    const ds = datasetId ? this.datasets.find(datasetId) : null;
    if (!ds) throw new AppraiseError('NOT_FOUND', 'the sales this model learned from are not in this workspace, so there is no typical sale to start from');
    if (!this.typicalByDataset.has(ds.id)) this.typicalByDataset.set(ds.id, typicalSale(this.datasets, ds));
    const t = this.typicalByDataset.get(ds.id);
    if (!t) throw new AppraiseError('NOT_FOUND', 'no sale in the data has every field of the form filled in, so there is no typical sale to start from');
    return t;
  }

  /** The sales the appraiser added by id (every sale of that property not already in the grid), marked as added. */
  private addedSales(m: LoadedModel, values: Record<string, NormalizedValue>, ids: string[], have: ComparableSale[]): ComparableSale[] {
    if (!m.comparables) throw new AppraiseError('NOT_FOUND', 'the sales this model learned from are not in this workspace, so no sale can be added');
    const seen = new Set(have.map((c) => c.rowIndex));
    const out: ComparableSale[] = [];
    for (const id of ids) {
      const sales = m.comparables.salesById(values, id);
      if (sales.length === 0)
        throw new AppraiseError(
          'INVALID_INPUT',
          `no sale with id "${id}" is in the data this model learned from; check the id (the parcel id of a sold property)`,
          {
            details: [{ field: 'added', message: `no sale with id ${id}` }],
          },
        );
      for (const sale of sales) {
        if (seen.has(sale.rowIndex)) continue;
        seen.add(sale.rowIndex);
        out.push(sale);
      }
    }
    return out;
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
  ): Promise<AdjustedComparable[] | null> {
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
    // With a price index the comparables' date features are held at the last sale, as the subject's are: the
    // index alone moves each one from its sale date to the valuation date (the grid's market-conditions line).
    const last = manifest.market && t.saleDate ? manifest.saleDateRange?.last : undefined;
    found.forEach((c, i) => {
      const record = records.get(c.rowIndex)!;
      X.set(m.compiled.fromRecord(last && t.saleDate ? { ...record, [t.saleDate]: last } : record).vector, i * nF);
    });
    const pred = await m.session.run(X, found.length, nF);
    const inverse = m.compiled.inverseTarget;
    const explained = found.map((sale, i) => {
      const vector = X.subarray(i * nF, (i + 1) * nF);
      const shap = m.explainer!.explain(vector);
      const constantDate = toBothSpaces(manifest, m.compiled, pred.raw[i], pred.value[i]);
      // With a price index, the comparable's own estimate is at its own sale date: the grid's time row then holds
      // the market's move from that date to the valuation date (the appraisal's market-conditions adjustment).
      const record = records.get(sale.rowIndex)!;
      const at = manifest.market ? comparableAdjustment(manifest.market, record, sale.saleDate) : null;
      const own = at ? reinflated(constantDate, at.logFactor, m.compiled) : constantDate;
      const r = manifest.market
        ? withMarketFeature(m.compiled.names, vector, shap.contributions, marketContribution(constantDate.raw, own.raw))
        : { names: m.compiled.names, vector, phi: shap.contributions };
      const explainedContributions = toCurrency(r.names, r.vector, r.phi, shap.expectedValue, own.estimate, inverse, t.target.transform === 'log', () => null);
      return { sale, explained: { contributions: explainedContributions, values: records.get(sale.rowIndex)! } };
    });
    const columnOf = new Map(t.features.map((f) => [f.name, 'column' in f.spec ? f.spec.column : null]));
    if (manifest.market) columnOf.set(MARKET_FEATURE, t.saleDate);
    // Grid rows come from the training data's config as stored in this workspace: display keys (gridGroup) may
    // have been added to it after the model was trained; they are not hashed, so it is the same schema.
    const groups = gridGroupsOf(ds.config, t.features);
    if (manifest.market) groups.set(MARKET_FEATURE, 'time');
    return adjustComparables({ contributions, values }, explained, groups, (f) => columnOf.get(f) ?? null);
  }

  async score(
    modelRef: string,
    source: string,
    out: string,
    job: JobControl<{ rows: number; total: number }> = {},
    options: ScoreOptions = {},
  ): Promise<ScoreResult> {
    return auditedAsync(
      this.audit,
      'valuation.export',
      { model: modelRef, source, out },
      async () => {
        // On a confined host (the web host) a source file and the output stay in the allowed folders (issue 14,
        // #5); a source that is no file is a dataset of the workspace, and a sqlite: output a table in it.
        if (existsSync(source)) fileAccess().checkRead(source, 'the file to value');
        if (!out.startsWith('sqlite:')) fileAccess().checkWrite(out, 'the output file');
        const m = await this.load(modelRef);
        return scoreToFile({
          model: m.stored,
          compiled: m.compiled,
          datasets: this.datasets,
          source,
          out,
          job,
          db: this.db,
          connect: this.connect,
          columnMap: options.columnMap,
          // Every batch score goes to the prediction log too (issue 13, #1), under the job's id.
          ...(this.sink && options.log !== false ? { log: { sink: this.sink, jobId: job.jobId ?? `score-${randomUUID()}` } } : {}),
        });
      },
      (r) => ({ model: r.modelId, rows: r.rows, scored: r.scored, failed: r.failed }),
    );
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
    await this.inference.close();
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
