import { createHash } from 'node:crypto';
import { z } from 'zod';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { AppraiseError, invalidInput } from '../common/errors.js';
import { loadConfigFile } from '../config/load-config.js';
import type { DatasetConfig } from '../config/dataset-config.schema.js';
import type { DatasetStore, DatasetVersion } from '../datasets/dataset-store.js';
import { compileFeatureTransform, fitFeatureTransform, planFeatures, type CompiledTransform, type FeatureTransform } from '../features/feature-transform.js';
import type { TreeEnsemble } from '../learner/model/tree-model.js';
import type { ModelStore } from '../models/model-store.js';
import {
  accuracyMetricsSchema,
  intervalCalibrationSchema,
  modelCalibrationSchema,
  type ModelCalibration,
  type ModelManifest,
  type ModelSummary,
} from '../models/model-schemas.js';
import { FastTreePredictor } from '../learner/model/fast-predictor.js';
import { ModelProcess } from '../inference/model-process.js';
import { accuracyMetrics } from '../training/accuracy-metrics.js';
import { calibrateIntervals } from '../training/conformal-intervals.js';
import { randomFolds } from '../training/folds.js';
import { exportTreeEnsembleToOnnx, ONNX_INPUT, ONNX_RAW_OUTPUT, ONNX_VALUE_OUTPUT } from '../onnx/export-tree-ensemble.js';
import { checkImportable } from '../onnx/inspect-onnx.js';
import { APPRAISE_VERSION } from '../common/version.js';
import { importTemplate, type ImportTemplate } from './import-template.js';
import { convertXgboost, parseXgboostJson, type ConvertedModel } from './xgboost-model.js';
import { convertLightgbm } from './lightgbm-model.js';
import { auditedAfter, auditedAsync, type AuditTrail } from '../audit/audit-trail.js';

/** Which schema and which data fix a model's inputs: a config file, a dataset (its own config), or both. */
export interface FeatureSource {
  /** YAML dataset config; default: the dataset's own config. */
  config?: string;
  /** Dataset in the workspace whose category frequencies fix the category codes (as training does). */
  dataset?: string;
}

export interface ExternalImportOptions extends FeatureSource {
  name?: string;
  /** For a single-output ONNX file: does it predict the transformed target (default, as the template says) or the price? */
  outputSpace?: 'transformed' | 'target';
}

/**
 * Models trained outside Appraise: the import template that tells a data team which inputs to train on, the
 * feature matrix in that layout as CSV, the import of XGBoost JSON, LightGBM text and plain ONNX models against
 * the template, and local calibration. Imported models are registered as challengers with no intervals or figures
 * of their own until `calibrate` measures them on local sales.
 */
export class InteropService {
  constructor(
    private readonly datasets: DatasetStore,
    private readonly models: ModelStore,
    /** Called after a model's record changed (calibration), for caches of loaded models. */
    private readonly onModelChanged: (modelId: string) => Promise<void> | void = () => {},
    /** Imports and calibrations are consequential (a model that can become champion; its ranges): recorded here. */
    private readonly audit?: AuditTrail,
  ) {}

  /** The inputs an external model must match, in order. */
  template(src: FeatureSource): ImportTemplate {
    const r = this.resolve(src);
    return importTemplate(r.transform, r.configName, r.ds ? { id: r.ds.id, name: r.ds.name } : null);
  }

  /**
   * Writes a dataset's rows in the template's layout: one column per input (empty = missing) and the transformed
   * target last, named like the template's `target.modelPredicts`. What a data team trains on to match exactly.
   */
  writeFeatureCsv(src: FeatureSource, out: string): { file: string; rows: number; columns: string[] } {
    const r = this.resolve(src);
    if (!r.ds) throw invalidInput('writing the feature matrix needs --dataset (the sales to write)');
    const m = this.datasets.readMatrix(r.ds, r.transform, r.compiled);
    const target = importTemplate(r.transform, r.configName, null).target.modelPredicts;
    const columns = [...r.compiled.names, target];
    const nF = m.nFeatures;
    // Written in blocks of rows: a million-sale dataset never becomes one string in memory.
    const fd = openSync(out, 'w');
    try {
      writeSync(fd, `${columns.map(csvCell).join(',')}\n`);
      let block: string[] = [];
      const cells: string[] = new Array<string>(nF + 1);
      for (let i = 0; i < m.nRows; i++) {
        for (let k = 0; k < nF; k++) {
          const v = m.X[i * nF + k];
          // The float32's value printed as a double: it reads back to exactly the same float32.
          cells[k] = Number.isNaN(v) ? '' : String(v);
        }
        cells[nF] = String(m.y[i]);
        block.push(cells.join(','));
        if (block.length === 10_000) {
          writeSync(fd, `${block.join('\n')}\n`);
          block = [];
        }
      }
      if (block.length > 0) writeSync(fd, `${block.join('\n')}\n`);
    } finally {
      closeSync(fd);
    }
    return { file: out, rows: m.nRows, columns };
  }

  /** Imports `m.json` (XGBoost), `m.txt` (LightGBM) or `m.onnx` (any converter) against the template of `src`. */
  importModel(file: string, opts: ExternalImportOptions): ModelSummary {
    const ids = { file, format: extname(file).toLowerCase().slice(1) || 'none', ...(opts.dataset ? { dataset: opts.dataset } : {}) };
    return auditedAfter(
      this.audit,
      'model.import',
      ids,
      () => this.importExternal(file, opts),
      (m) => ({ model: m.id }),
    );
  }

  private importExternal(file: string, opts: ExternalImportOptions): ModelSummary {
    const ext = extname(file).toLowerCase();
    if (ext !== '.json' && ext !== '.txt' && ext !== '.onnx')
      throw invalidInput(`${file}: give an XGBoost JSON model (.json), a LightGBM text model (.txt) or an ONNX model (.onnx)`);
    const r = this.resolve(opts);
    const bytes = readOrFail(file);
    const name = opts.name ?? basename(file, extname(file));
    if (ext === '.json' || ext === '.txt') {
      const template = { names: r.compiled.names, kinds: r.compiled.kinds, categoryCounts: r.compiled.categoryCounts };
      let c: ConvertedModel;
      if (ext === '.json') {
        const parsed = parseXgboostJson(bytes.toString('utf8'), file);
        const nFile = parsed.learner.learner_model_param.num_feature;
        if (!parsed.learner.feature_names?.length && nFile !== r.compiled.nFeatures)
          throw invalidInput(`${file} takes ${nFile} features but the import template has ${r.compiled.nFeatures} (${r.compiled.names.join(', ')})`);
        if (parsed.learner.feature_names?.length) checkNames(file, parsed.learner.feature_names, r.compiled.names);
        c = convertXgboost(parsed, file, template);
      } else {
        c = convertLightgbm(bytes.toString('utf8'), file, template);
        if (c.fileFeatureNames) checkNames(file, c.fileFeatureNames, r.compiled.names);
      }
      const onnx = exportTreeEnsembleToOnnx(c.ensemble, { targetTransform: r.transform.target.transform, producerVersion: APPRAISE_VERSION });
      return this.register(r, name, onnx, c.ensemble, {
        trainerVersion: c.producer,
        params: { objective: c.objective, source: basename(file) },
        onnx: { opset: 5, operator: 'ai.onnx.ml.TreeEnsemble', inputName: ONNX_INPUT, outputName: ONNX_VALUE_OUTPUT, rawOutputName: ONNX_RAW_OUTPUT },
      });
    }
    const importable = checkImportable(bytes, { nFeatures: r.compiled.nFeatures });
    const single = importable.summary.outputs.length === 1;
    return this.register(r, name, bytes, null, {
      trainerVersion: 'external (onnx)',
      params: { source: basename(file) },
      onnx: {
        opset: 0,
        operator: 'external',
        inputName: importable.inputName,
        outputName: importable.outputName,
        rawOutputName: null,
        ...(single ? { outputSpace: opts.outputSpace ?? 'transformed' } : {}),
      },
    });
  }

  /**
   * Local calibration: scores the model on a dataset's sales and sets its intervals (split-conformal quantiles of
   * the log residuals, coverage checked by 5-fold cross-conformal evaluation as training does) and its accuracy
   * figures, ratio study included. The registry record is updated in place rather than registered as a new model:
   * the ONNX bytes — what is served, and what the id hashes — do not change, so promotions and logged valuations
   * keep naming the same model.
   */
  async calibrate(modelRef: string, datasetRef: string, options: { seed?: number } = {}): Promise<CalibrationResult> {
    return auditedAsync(
      this.audit,
      'model.calibrate',
      { ref: modelRef, dataset: datasetRef },
      () => this.calibrateOn(modelRef, datasetRef, options),
      (r) => ({ model: r.modelId, dataset: r.calibration.datasetId }),
    );
  }

  private async calibrateOn(modelRef: string, datasetRef: string, options: { seed?: number }): Promise<CalibrationResult> {
    const stored = this.models.load(modelRef);
    const ds = this.datasets.get(datasetRef);
    const manifest = stored.manifest;
    if (manifest.trainingDatasetId === ds.id)
      throw invalidInput(`model ${stored.summary.id.slice(0, 12)} was trained on ${ds.name}; calibrate on sales it did not see (e.g. a newer dataset)`);
    const transform = manifest.featureTransform;
    const have = new Set(ds.columns.map((c) => c.name));
    const missing = transform.columns.filter((c) => !have.has(c.name)).map((c) => c.name);
    if (missing.length > 0 || ds.config.target.column !== transform.target.column)
      throw invalidInput(
        `dataset ${ds.name} lacks what the model needs (${[...missing, ...(ds.config.target.column !== transform.target.column ? [`target ${transform.target.column}`] : [])].join(', ')})`,
      );
    const compiled = compileFeatureTransform(transform);
    const m = this.datasets.readMatrix(ds, transform, compiled);
    if (m.nRows < MIN_CALIBRATION_SALES) throw invalidInput(`dataset ${ds.name} has ${m.nRows} sale(s); calibration needs at least ${MIN_CALIBRATION_SALES}`);
    const pred = stored.ensemble
      ? new FastTreePredictor(stored.ensemble).predict(m.X, m.nRows)
      : await scoreOnnx(stored.onnx, manifest, compiled, m.X, m.nRows);
    const residuals = Float64Array.from(m.y, (y, i) => y - pred[i]);
    if (residuals.some((r) => !Number.isFinite(r))) throw invalidInput(`the model gives non-finite estimates for some sales of ${ds.name}`);
    const intervals = calibrateIntervals(residuals, randomFolds(m.nRows, 5, options.seed ?? 42).fold);
    const inv = compiled.inverseTarget;
    const metrics = accuracyMetrics(Float64Array.from(m.y, inv), Float64Array.from(pred, inv), m.y, pred);
    const calibration: ModelCalibration = { datasetId: ds.id, datasetName: ds.name, n: m.nRows, at: new Date().toISOString() };
    const scheme = `local calibration on ${ds.name} (${m.nRows} sales; 5-fold cross-conformal coverage)`;
    this.models.recalibrate({ ...manifest, intervals, cv: { ...metrics, folds: [], scheme }, calibration });
    await this.onModelChanged(stored.summary.id);
    return { modelId: stored.summary.id, metrics, intervals, calibration };
  }

  private register(
    r: Resolved,
    name: string,
    onnx: Uint8Array,
    ensemble: TreeEnsemble | null,
    extra: { trainerVersion: string; params: Record<string, string>; onnx: Omit<ModelManifest['onnx'], 'file' | 'sha256'> },
  ): ModelSummary {
    const modelId = createHash('sha256').update(onnx).digest('hex');
    const manifest: ModelManifest = {
      format: 'appraise-model/1',
      modelId,
      name,
      createdAt: new Date().toISOString(),
      trainerVersion: extra.trainerVersion,
      mode: 'imported',
      parentModelId: null,
      trainingDatasetId: null,
      trainingDatasetName: null,
      featureTransform: r.transform,
      datasetConfig: r.config,
      params: extra.params,
      nTrees: ensemble?.trees.length ?? 0,
      // No figures until `appraise models calibrate`: an external tool's claims are not copied.
      cv: null,
      intervals: [],
      onnx: { file: 'model.onnx', sha256: modelId, ...extra.onnx },
      saleDateRange: null,
      reference: [],
    };
    return this.models.add(manifest, onnx, ensemble);
  }

  private resolve(src: FeatureSource): Resolved {
    if (!src.config && !src.dataset)
      throw invalidInput('give --config (the dataset config the model was trained for) or --dataset (a dataset in this workspace)');
    const ds = src.dataset ? this.datasets.get(src.dataset) : null;
    const loaded = src.config ? loadConfigFile(src.config) : null;
    const config: DatasetConfig = loaded?.config ?? ds!.config;
    const configName = src.config ? basename(src.config) : ds!.configName;
    const categorical = planFeatures(config)
      .filter((f) => f.spec.op === 'category')
      .map((f) => (f.spec as { column: string }).column);
    if (categorical.length > 0 && !ds)
      throw invalidInput(
        `the config has categorical columns (${categorical.join(', ')}); give --dataset so their category codes are fitted from data, like training does`,
      );
    if (ds) {
      const have = new Set(ds.columns.map((c) => c.name));
      const missing = Object.keys(config.dataset.columns).filter((c) => !have.has(c));
      if (missing.length > 0) throw invalidInput(`dataset ${ds.name} lacks columns of the config: ${missing.join(', ')}`);
    }
    // The external model's codes are the template's listed levels, one each: no pooled "rare" code.
    const transform = fitFeatureTransform(config, ds ? this.datasets.categoryFrequencies(ds, categorical) : {}, { poolRareCategories: false });
    return { config, configName, ds, transform, compiled: compileFeatureTransform(transform) };
  }
}

/** Fewest sales a calibration accepts: with fewer, a 95 % conformal quantile is just the largest residual. */
export const MIN_CALIBRATION_SALES = 30;

export const calibrationResultSchema = z.object({
  modelId: z.string(),
  metrics: accuracyMetricsSchema,
  intervals: z.array(intervalCalibrationSchema),
  calibration: modelCalibrationSchema,
});
export type CalibrationResult = z.output<typeof calibrationResultSchema>;

/** Estimates in transformed space (log price) from the ONNX file, for imported models without trees. */
async function scoreOnnx(onnx: Buffer, manifest: ModelManifest, compiled: CompiledTransform, X: Float32Array, nRows: number): Promise<Float64Array> {
  // An imported graph is untrusted: it runs in a model process, under its time limit and memory cap (issue 14, #3).
  const host = new ModelProcess();
  try {
    await host.load(manifest.modelId, onnx);
    const out = await host.predict(manifest.modelId, X, nRows, compiled.nFeatures);
    // A single-output model says whether it predicts the price or the transformed target (see prediction-space.ts).
    const asTarget = manifest.onnx.outputSpace === 'target';
    return Float64Array.from({ length: nRows }, (_, i) => (asTarget ? compiled.target(out.value[i]) : out.raw[i]));
  } finally {
    await host.close();
  }
}

interface Resolved {
  config: DatasetConfig;
  configName: string;
  ds: DatasetVersion | null;
  transform: FeatureTransform;
  compiled: CompiledTransform;
}

function checkNames(file: string, got: string[], want: string[]): void {
  if (got.length !== want.length)
    throw invalidInput(`${file} has ${got.length} features (${got.join(', ')}) but the import template has ${want.length} (${want.join(', ')})`);
  const i = got.findIndex((n, k) => n !== want[k]);
  if (i >= 0)
    throw invalidInput(`${file}: feature ${i} is "${got[i]}" but the import template expects "${want[i]}" there; train on the template's columns in its order`);
}

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function readOrFail(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new AppraiseError('INVALID_INPUT', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}
