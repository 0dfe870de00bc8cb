import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { z } from 'zod';
import { AppraiseError, badFile } from '../common/errors.js';
import { checkImportable } from '../onnx/inspect-onnx.js';
import type { TreeEnsemble } from '../learner/model/tree-model.js';
import type { ModelStore, StoredModel } from './model-store.js';
import type { ModelManifest, ModelSummary } from './model-schemas.js';

/** The parts of a manifest an import relies on; checked before anything is registered. */
const importedManifestSchema = z
  .object({
    format: z.literal('appraise-model/1', 'not an Appraise model manifest (format must be "appraise-model/1")'),
    modelId: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    name: z.string().min(1).max(200),
    featureTransform: z.object({ version: z.string(), features: z.array(z.object({ name: z.string() }).passthrough()).min(1), columns: z.array(z.object({ name: z.string(), type: z.string() })) }).passthrough(),
    datasetConfig: z.object({ dataset: z.object({ columns: z.record(z.string(), z.unknown()) }).passthrough(), target: z.object({ column: z.string() }).passthrough() }).passthrough(),
    intervals: z.array(z.object({ level: z.number().gt(0).lt(1), quantile: z.number().nonnegative(), empiricalCoverage: z.number() })).default([]),
  })
  .passthrough();

/** Registry actions: list, inspect, promote/rollback/archive, and moving models in and out as files. */
/** Everything the CLI and the app do with models in the workspace's registry. */
export interface ModelServiceApi {
  list(): ModelSummary[];
  /** Id, unique id prefix, or 'champion'. */
  manifest(ref: string): ModelManifest;
  promote(ref: string): ModelSummary;
  /** Makes the previous champion champion again. */
  rollback(): ModelSummary;
  archive(ref: string): ModelSummary;
  exportTo(ref: string, dir: string): { onnx: string; manifest: string };
  importFrom(onnxFile: string, manifestFile: string): ModelSummary;
}

export class ModelService implements ModelServiceApi {
  constructor(private readonly store: ModelStore) {}

  list(): ModelSummary[] {
    return this.store.list();
  }

  summary(ref: string): ModelSummary {
    return this.store.summary(ref);
  }

  manifest(ref: string): ModelManifest {
    return this.store.manifest(ref);
  }

  /** All of a model's artifacts, hash-verified. */
  load(ref: string): StoredModel {
    return this.store.load(ref);
  }

  promote(ref: string): ModelSummary {
    return this.store.promote(ref);
  }

  rollback(): ModelSummary {
    return this.store.rollback();
  }

  archive(ref: string): ModelSummary {
    return this.store.archive(ref);
  }

  /** Writes `model.onnx`, `manifest.json` and (for Appraise-trained models) `ensemble.json` into `dir`. */
  exportTo(ref: string, dir: string): { onnx: string; manifest: string } {
    const m = this.store.load(ref);
    mkdirSync(dir, { recursive: true });
    const onnx = join(dir, 'model.onnx');
    const manifest = join(dir, 'manifest.json');
    writeFileSync(onnx, m.onnx);
    writeFileSync(manifest, `${JSON.stringify(m.manifest, null, 2)}\n`);
    if (m.ensemble) writeFileSync(join(dir, 'ensemble.json'), JSON.stringify(m.ensemble));
    return { onnx, manifest };
  }

  /**
   * Imports an ONNX regression model with its manifest (an Appraise export, or a model trained elsewhere with a
   * manifest written for it). The ONNX graph is checked against the manifest's feature list; a manifest that names
   * a model id must match the file's hash, so a swapped or tampered file is refused.
   */
  importFrom(onnxFile: string, manifestFile: string): ModelSummary {
    const bytes = readOrFail(onnxFile);
    let raw: unknown;
    try {
      raw = JSON.parse(readOrFail(manifestFile).toString('utf8'));
    } catch (e) {
      if (e instanceof AppraiseError) throw e;
      throw badFile(`${manifestFile} is not valid JSON: ${(e as Error).message}`);
    }
    const parsed = importedManifestSchema.safeParse(raw);
    if (!parsed.success) {
      throw new AppraiseError('INVALID_INPUT', `${manifestFile} is not a usable model manifest:\n${parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`);
    }
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (parsed.data.modelId && parsed.data.modelId !== sha) {
      throw badFile(`${onnxFile} does not match its manifest: the manifest names model ${parsed.data.modelId.slice(0, 12)} but the file hashes to ${sha.slice(0, 12)} (tampered or mismatched files)`);
    }
    const manifest = { ...(raw as ModelManifest), ...parsed.data, modelId: sha } as unknown as ModelManifest;
    const importable = checkImportable(bytes, { nFeatures: manifest.featureTransform.features.length });
    const singleOutput = importable.summary.outputs.length === 1;
    const outputSpace = (raw as { onnx?: { outputSpace?: unknown } }).onnx?.outputSpace;
    if (singleOutput && outputSpace !== 'target' && outputSpace !== 'transformed') {
      throw new AppraiseError(
        'INVALID_INPUT',
        `${manifestFile}: the model has one output; set "onnx": { "outputSpace": "target" } if it predicts the ${manifest.datasetConfig.target.column} itself, ` +
          `or "transformed" if it predicts ${manifest.featureTransform.target.transform}(${manifest.datasetConfig.target.column}) as Appraise models learn it`,
      );
    }
    const ensemblePath = join(dirname(manifestFile), 'ensemble.json');
    let ensemble: TreeEnsemble | null = null;
    if (existsSync(ensemblePath)) {
      const e = JSON.parse(readFileSync(ensemblePath, 'utf8')) as TreeEnsemble;
      if (e.format === 'appraise-gbdt/1' && e.featureNames.length === manifest.featureTransform.features.length) ensemble = e;
    }
    const isAppraise = manifest.mode === 'full' || manifest.mode === 'warm-start';
    const final: ModelManifest = {
      ...manifest,
      mode: isAppraise && ensemble ? manifest.mode : 'imported',
      onnx: {
        ...(manifest.onnx ?? { file: 'model.onnx', opset: 0, operator: 'external', rawOutputName: null }),
        sha256: sha,
        inputName: importable.inputName,
        outputName: importable.outputName,
        ...(singleOutput ? { outputSpace: outputSpace as 'target' | 'transformed' } : {}),
      },
      reference: manifest.reference ?? [],
      cv: manifest.cv ?? null,
      nTrees: manifest.nTrees ?? 0,
      parentModelId: manifest.parentModelId ?? null,
      trainingDatasetId: manifest.trainingDatasetId ?? null,
      trainingDatasetName: manifest.trainingDatasetName ?? null,
      createdAt: manifest.createdAt ?? new Date().toISOString(),
      trainerVersion: manifest.trainerVersion ?? 'external',
      params: manifest.params ?? {},
    };
    return this.store.add(final, bytes, ensemble);
  }
}

function readOrFail(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new AppraiseError('INVALID_INPUT', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}
