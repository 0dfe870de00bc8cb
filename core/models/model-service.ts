import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { userInfo } from 'node:os';
import { z } from 'zod';
import { AppraiseError, badFile } from '../common/errors.js';
import { fileAccess } from '../common/file-access.js';
import { checkImportable, parseOnnx, type ImportableModel } from '../onnx/inspect-onnx.js';
import { onnx } from '../onnx/onnx-proto.js';
import { exportTreeEnsembleToOnnx, validateEnsemble } from '../onnx/export-tree-ensemble.js';
import type { TreeEnsemble } from '../learner/model/tree-model.js';
import { treeEnsembleSchema } from '../learner/model/tree-ensemble-schema.js';
import type { ModelStore, StoredModel } from './model-store.js';
import { modelEnvelopeSchema, modelManifestSchema, type ChampionHistory, type ModelManifest, type ModelSummary } from './model-schemas.js';
import { computeEnvelope, ensembleBytes, verifyEnvelope } from './model-envelope.js';
import { auditedAfter, auditedSync, type AuditTrail } from '../audit/audit-trail.js';

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
  /** A model id (prefix, name) or, from the app, `{ ref, reason }`: the reason is kept in the champion history. */
  promote(request: string | { ref: string; reason?: string }): ModelSummary;
  /** Undoes the latest promotion not yet undone: its previous champion is champion again (see `history`). */
  rollback(request?: { reason?: string }): ModelSummary;
  /** Who changed the champion, when and why, newest first, and the model a rollback would restore now. */
  history(): ChampionHistory;
  archive(ref: string): ModelSummary;
  exportTo(ref: string, dir: string): { onnx: string; manifest: string };
  importFrom(onnxFile: string, manifestFile: string): ModelSummary;
}

export class ModelService implements ModelServiceApi {
  constructor(
    private readonly store: ModelStore,
    /** Where promotions, rollbacks, archiving, imports and exports are recorded (core/audit); none: not recorded. */
    private readonly audit?: AuditTrail,
  ) {}

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

  promote(request: string | { ref: string; reason?: string }): ModelSummary {
    const { ref, reason } = typeof request === 'string' ? { ref: request, reason: undefined } : request;
    return auditedSync(
      this.audit,
      'model.promote',
      { ref },
      () => this.store.promote(ref, reason?.trim() || 'promoted', currentUser()),
      (m) => ({ model: m.id }),
    );
  }

  rollback(request: { reason?: string } = {}): ModelSummary {
    return auditedSync(this.audit, 'model.rollback', {}, () => this.store.rollback(request.reason, currentUser()), (m) => ({ model: m.id }));
  }

  history(): ChampionHistory {
    return { changes: this.store.promotions(), rollbackTo: this.store.rollbackTarget() };
  }

  archive(ref: string): ModelSummary {
    return auditedSync(this.audit, 'model.archive', { ref }, () => this.store.archive(ref), (m) => ({ model: m.id }));
  }

  /**
   * Writes `model.onnx`, `manifest.json` and (for Appraise-trained models) `ensemble.json` into `dir`; the manifest
   * carries the integrity envelope over all three (core/models/model-envelope.ts).
   */
  exportTo(ref: string, dir: string): { onnx: string; manifest: string } {
    return auditedAfter(this.audit, 'model.export', { ref, dir }, () => this.writeExport(ref, dir));
  }

  private writeExport(ref: string, dir: string): { onnx: string; manifest: string } {
    // Checked before anything is created: a confined host writes only where it was allowed to (issue 14, #5).
    fileAccess().checkWrite(dir, 'the export folder');
    const m = this.store.load(ref);
    mkdirSync(dir, { recursive: true });
    const onnx = join(dir, 'model.onnx');
    const manifest = join(dir, 'manifest.json');
    const ensemble = m.ensemble ? ensembleBytes(m.ensemble) : null;
    const { integrity: _stale, ...body } = m.manifest;
    const sealed: ModelManifest = { ...body, integrity: computeEnvelope(body, m.onnx, ensemble) };
    writeFileSync(onnx, m.onnx);
    if (ensemble) writeFileSync(join(dir, 'ensemble.json'), ensemble);
    writeFileSync(manifest, `${JSON.stringify(sealed, null, 2)}\n`);
    return { onnx, manifest };
  }

  /**
   * Imports an ONNX regression model with its manifest (an Appraise export, or a model trained elsewhere with a
   * manifest written for it). The ONNX graph is checked against the manifest's feature list and the operator
   * allow-list; a manifest that names a model id must match the file's hash; a manifest with an integrity envelope
   * must match every file of the folder; an `ensemble.json` beside it must be a valid ensemble that re-exports to
   * the same ONNX graph (so its explanations add up to the estimates); and the completed manifest must pass the
   * full manifest schema. Anything else is refused before it is registered.
   */
  importFrom(onnxFile: string, manifestFile: string): ModelSummary {
    return auditedAfter(this.audit, 'model.import', { onnx: onnxFile, manifest: manifestFile }, () => this.importFiles(onnxFile, manifestFile), (m) => ({ model: m.id }));
  }

  private importFiles(onnxFile: string, manifestFile: string): ModelSummary {
    fileAccess().checkRead(onnxFile, 'the model file');
    fileAccess().checkRead(manifestFile, 'the manifest');
    const bytes = readOrFail(onnxFile);
    const raw = parseJsonFile(readOrFail(manifestFile), manifestFile);
    const parsed = importedManifestSchema.safeParse(raw);
    if (!parsed.success) {
      throw new AppraiseError('INVALID_INPUT', `${manifestFile} is not a usable model manifest:\n${issueList(parsed.error.issues)}`);
    }
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (parsed.data.modelId && parsed.data.modelId !== sha) {
      throw badFile(`${onnxFile} does not match its manifest: the manifest names model ${parsed.data.modelId.slice(0, 12)} but the file hashes to ${sha.slice(0, 12)} (tampered or mismatched files)`);
    }
    const ensemblePath = join(dirname(manifestFile), 'ensemble.json');
    const ensembleFile = existsSync(ensemblePath) ? readOrFail(ensemblePath) : null;
    const rawIntegrity = (raw as { integrity?: unknown }).integrity;
    if (rawIntegrity !== undefined) {
      const envelope = modelEnvelopeSchema.safeParse(rawIntegrity);
      if (!envelope.success) throw badFile(`${manifestFile}: the integrity envelope is malformed:\n${issueList(envelope.error.issues)}`);
      verifyEnvelope({ ...(raw as ModelManifest), integrity: envelope.data }, bytes, ensembleFile, manifestFile);
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
    const ensemble = ensembleFile ? checkedEnsemble(ensembleFile, ensemblePath, manifest, bytes, importable) : null;
    const isAppraise = manifest.mode === 'full' || manifest.mode === 'warm-start';
    const { integrity: _checked, ...body } = manifest;
    const completed = {
      ...body,
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
      nTrees: manifest.nTrees ?? ensemble?.trees.length ?? 0,
      parentModelId: manifest.parentModelId ?? null,
      trainingDatasetId: manifest.trainingDatasetId ?? null,
      trainingDatasetName: manifest.trainingDatasetName ?? null,
      createdAt: manifest.createdAt ?? new Date().toISOString(),
      trainerVersion: manifest.trainerVersion ?? 'external',
      params: manifest.params ?? {},
    };
    // The full schema, not only the parts the import itself reads: everything in it is served later (intervals,
    // ranges, the dataset config inputs are validated against), so a malformed field is refused here, not at use.
    const full = modelManifestSchema.safeParse(completed);
    if (!full.success) throw new AppraiseError('INVALID_INPUT', `${manifestFile} is not a valid model manifest:\n${issueList(full.error.issues)}`);
    if (ensemble && full.data.nTrees !== ensemble.trees.length)
      throw badFile(`${manifestFile} says the model has ${full.data.nTrees} trees but ${ensemblePath} has ${ensemble.trees.length}`);
    return this.store.add(full.data, bytes, ensemble);
  }
}

/**
 * Parses and checks an `ensemble.json` that came with an imported model: the full schema, the tree structure
 * (no cycles, no empty trees, children and features in range), the manifest's features in order, and — for
 * Appraise-shaped graphs — that exporting it with the manifest's target transform gives exactly the model's graph
 * (`graphIdentity`). The exporter is deterministic, so this binds ensemble, transform and graph together without
 * running the model.
 */
function checkedEnsemble(file: Buffer, path: string, manifest: ModelManifest, onnxBytes: Uint8Array, importable: ImportableModel): TreeEnsemble {
  const shape = treeEnsembleSchema.safeParse(parseJsonFile(file, path));
  if (!shape.success) throw badFile(`${path} is not a valid Appraise tree ensemble:\n${issueList(shape.error.issues)}`);
  const ensemble = shape.data;
  try {
    validateEnsemble(ensemble);
  } catch (e) {
    throw badFile(`${path} is not a usable tree ensemble: ${(e as Error).message}`);
  }
  const features = manifest.featureTransform.features.map((f) => f.name);
  if (ensemble.featureNames.length !== features.length || ensemble.featureNames.some((n, i) => n !== features[i])) {
    throw badFile(`${path} was trained on other features than the manifest lists (${ensemble.featureNames.slice(0, 5).join(', ')}… vs ${features.slice(0, 5).join(', ')}…)`);
  }
  if (importable.rawOutputName === null) return ensemble;
  const target = graphIdentity(onnxBytes);
  const operator = importable.summary.operators['ai.onnx.ml:TreeEnsembleRegressor'] ? 'TreeEnsembleRegressor' : 'TreeEnsemble';
  const transform = manifest.featureTransform.target.transform;
  const matches = (['float32', 'float64'] as const).some(
    (precision) => graphIdentity(exportTreeEnsembleToOnnx(ensemble, { targetTransform: transform, operator, precision })) === target,
  );
  if (!matches) {
    throw badFile(
      `${path} does not describe the ONNX model beside it (with target transform "${transform}" it exports to a different graph): the ensemble, the model or the manifest's transform was edited; re-export the model from its workspace`,
    );
  }
  return ensemble;
}

/**
 * What a model computes, without what only describes it: the graph (nodes, weights, inputs, outputs) and the
 * opsets, re-encoded; the model- and graph-level doc strings, producer and metadata are left out, so a copy with
 * another description (e.g. a registry's variant) still matches its ensemble.
 */
function graphIdentity(bytes: Uint8Array): string {
  const model = parseOnnx(bytes);
  const graph = onnx.GraphProto.fromObject({ ...onnx.GraphProto.toObject(model.graph as InstanceType<typeof onnx.GraphProto>), docString: '' });
  const opsets = model.opsetImport.map((o) => `${o.domain || 'ai.onnx'}@${Number(o.version)}`).sort();
  return createHash('sha256').update(onnx.GraphProto.encode(graph).finish()).update(opsets.join(',')).digest('hex');
}

function parseJsonFile(bytes: Buffer, file: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (e) {
    throw badFile(`${file} is not valid JSON: ${(e as Error).message}`);
  }
}

function issueList(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  const shown = issues.slice(0, 12).map((i) => `  ${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
  return [...shown, ...(issues.length > 12 ? [`  … and ${issues.length - 12} more`] : [])].join('\n');
}

function readOrFail(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new AppraiseError('INVALID_INPUT', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

/** The OS account the app runs as: who changed the champion, on a laptop that is one appraiser's. */
function currentUser(): string | null {
  try {
    return userInfo().username || null;
  } catch {
    return null; // no passwd entry (some containers)
  }
}
