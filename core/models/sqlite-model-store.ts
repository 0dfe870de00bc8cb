import type Database from 'better-sqlite3';
import type { ErrorHint } from '../common/error-hints.js';
import { AppraiseError } from '../common/errors.js';
import type { ArtifactStore } from '../workspace/artifact-store.js';
import { canonicalJson } from '../config/load-config.js';
import type { TreeEnsemble } from '../learner/model/tree-model.js';
import { treeEnsembleSchema } from '../learner/model/tree-ensemble-schema.js';
import { validateEnsemble } from '../onnx/export-tree-ensemble.js';
import { modelManifestSchema, type ModelManifest, type ModelStatus, type ModelSummary, type AccuracyMetrics, type ChampionChange } from './model-schemas.js';
import type { ModelStore, StoredModel } from './model-store.js';

interface ModelRow {
  id: string;
  name: string;
  status: ModelStatus;
  mode: ModelSummary['mode'];
  dataset_id: string | null;
  parent_id: string | null;
  onnx_sha256: string;
  manifest_sha256: string;
  ensemble_sha256: string | null;
  n_trees: number;
  cv_json: string | null;
  created_at: string;
}


/**
 * The local model registry: manifests, ONNX files and ensembles are content-addressed artifacts; this table
 * indexes them with their status. One champion at most (a partial unique index), every promotion recorded.
 */
export class SqliteModelStore implements ModelStore {
  constructor(
    private readonly db: Database.Database,
    private readonly artifacts: ArtifactStore,
  ) {}

  /** Registers a model as a challenger. Idempotent: the same ONNX bytes are the same model. */
  add(manifest: ModelManifest, onnx: Uint8Array, ensemble: TreeEnsemble | null): ModelSummary {
    const onnxSha = this.artifacts.put(onnx);
    if (onnxSha !== manifest.modelId) throw new AppraiseError('INTERNAL', 'manifest modelId does not match the ONNX bytes');
    const manifestSha = this.artifacts.put(Buffer.from(JSON.stringify(manifest)));
    const ensembleSha = ensemble ? this.artifacts.put(Buffer.from(JSON.stringify(ensemble))) : null;
    const existing = this.db.prepare('SELECT * FROM models WHERE id = ?').get(manifest.modelId) as ModelRow | undefined;
    if (existing && (existing.manifest_sha256 !== manifestSha || existing.ensemble_sha256 !== ensembleSha)) {
      // The same ONNX bytes with other companion files. A registered copy that no longer loads (edited, damaged)
      // is replaced by the verified files being imported (issue 14, #8: re-importing the genuine files of a
      // tampered model kept the tampered one). An intact copy stays as it is: a re-imported export differs only in
      // details such as its envelope.
      if (this.loads(existing.id)) return this.summary(existing.id);
      this.db
        .prepare(`UPDATE models SET name = ?, mode = ?, dataset_id = ?, parent_id = ?, manifest_sha256 = ?, ensemble_sha256 = ?, n_trees = ?, cv_json = ? WHERE id = ?`)
        .run(
          manifest.name,
          manifest.mode,
          manifest.trainingDatasetId,
          manifest.parentModelId,
          manifestSha,
          ensembleSha,
          manifest.nTrees,
          manifest.cv ? JSON.stringify(stripFolds(manifest.cv)) : null,
          manifest.modelId,
        );
      return this.summary(manifest.modelId);
    }
    this.db
      .prepare(
        `INSERT INTO models (id, name, status, mode, dataset_id, parent_id, onnx_sha256, manifest_sha256, ensemble_sha256, n_trees, cv_json, created_at)
         VALUES (?, ?, 'challenger', ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
      )
      .run(
        manifest.modelId,
        manifest.name,
        manifest.mode,
        manifest.trainingDatasetId,
        manifest.parentModelId,
        onnxSha,
        manifestSha,
        ensembleSha,
        manifest.nTrees,
        manifest.cv ? JSON.stringify(stripFolds(manifest.cv)) : null,
        manifest.createdAt,
      );
    return this.summary(manifest.modelId);
  }

  /** True when every artifact of the model reads back with its hash and passes its schema. */
  private loads(id: string): boolean {
    try {
      this.load(id);
      return true;
    } catch {
      return false;
    }
  }

  list(): ModelSummary[] {
    return (this.db.prepare(`SELECT * FROM models ORDER BY created_at DESC, id`).all() as ModelRow[]).map((r) => this.toSummary(r));
  }

  /** Resolves an id, a unique id prefix (≥ 6 hex characters), a unique name, or `champion`. */
  resolve(ref: string): string {
    if (ref === 'champion') {
      const c = this.db.prepare(`SELECT id FROM models WHERE status = 'champion'`).get() as { id: string } | undefined;
      if (!c)
        throw new AppraiseError('NOT_FOUND', 'there is no champion model yet; train one (appraise train DATASET) and promote it (appraise models promote ID)', {
          details: { hint: 'no-champion' satisfies ErrorHint },
        });
      return c.id;
    }
    const exact = this.db.prepare('SELECT id FROM models WHERE id = ?').get(ref) as { id: string } | undefined;
    if (exact) return exact.id;
    const byPrefix = /^[0-9a-f]{6,}$/.test(ref) ? (this.db.prepare('SELECT id FROM models WHERE id LIKE ?').all(`${ref}%`) as { id: string }[]) : [];
    const byName = this.db.prepare('SELECT id FROM models WHERE name = ?').all(ref) as { id: string }[];
    const ids = [...new Set([...byPrefix, ...byName].map((r) => r.id))];
    if (ids.length === 1) return ids[0];
    if (ids.length === 0)
      throw new AppraiseError('NOT_FOUND', `no model "${ref}" in this workspace; list them with: appraise models list`, {
        details: { hint: 'unknown-model' satisfies ErrorHint, ref },
      });
    throw new AppraiseError('INVALID_INPUT', `"${ref}" matches ${ids.length} models (${ids.map((i) => i.slice(0, 12)).join(', ')}); give more of the id`);
  }

  summary(ref: string): ModelSummary {
    const row = this.db.prepare('SELECT * FROM models WHERE id = ?').get(this.resolve(ref)) as ModelRow;
    return this.toSummary(row);
  }

  /** Loads a model's artifacts, verifying every hash (a tampered file is refused, never used). */
  /**
   * Loads a model's artifacts, verifying every hash (a tampered file is refused, never used). The registry row is
   * the model's integrity envelope inside the workspace: it names the hash of each artifact, and the manifest and
   * ensemble must also pass their full schemas and agree with the row and with each other.
   */
  load(ref: string): StoredModel {
    const row = this.db.prepare('SELECT * FROM models WHERE id = ?').get(this.resolve(ref)) as ModelRow;
    const manifest = this.readManifest(row);
    const onnx = this.artifacts.get(row.onnx_sha256);
    const ensemble = row.ensemble_sha256 ? this.readEnsemble(row, row.ensemble_sha256, manifest) : null;
    return { summary: this.toSummary(row), manifest, onnx, ensemble };
  }

  manifest(ref: string): ModelManifest {
    return this.readManifest(this.db.prepare('SELECT * FROM models WHERE id = ?').get(this.resolve(ref)) as ModelRow);
  }

  private readManifest(row: ModelRow): ModelManifest {
    const what = `model ${row.id.slice(0, 12)}'s manifest`;
    const parsed = modelManifestSchema.safeParse(parseArtifact(this.artifacts.get(row.manifest_sha256), what));
    if (!parsed.success) throw new AppraiseError('BAD_FILE', `${what} does not pass the manifest schema (${describeIssues(parsed.error.issues)}); re-import the model`);
    if (parsed.data.modelId !== row.id || parsed.data.onnx.sha256 !== row.onnx_sha256)
      throw new AppraiseError('BAD_FILE', `${what} names another model (${parsed.data.modelId.slice(0, 12)}); re-import the model`);
    return parsed.data;
  }

  private readEnsemble(row: ModelRow, sha: string, manifest: ModelManifest): TreeEnsemble {
    const what = `model ${row.id.slice(0, 12)}'s tree ensemble`;
    const parsed = treeEnsembleSchema.safeParse(parseArtifact(this.artifacts.get(sha), what));
    if (!parsed.success) throw new AppraiseError('BAD_FILE', `${what} does not pass the ensemble schema (${describeIssues(parsed.error.issues)}); re-import the model`);
    try {
      validateEnsemble(parsed.data);
    } catch (e) {
      throw new AppraiseError('BAD_FILE', `${what} is broken: ${(e as Error).message}; re-import the model`);
    }
    const features = manifest.featureTransform.features.map((f) => f.name);
    if (parsed.data.featureNames.length !== features.length || parsed.data.featureNames.some((n, i) => n !== features[i]))
      throw new AppraiseError('BAD_FILE', `${what} names other features than its manifest; re-import the model`);
    return parsed.data;
  }

  /** Makes a model the champion in one transaction; the old champion becomes a challenger. */
  promote(ref: string, reason = 'promoted', who: string | null = null, undoes: number | null = null): ModelSummary {
    const id = this.resolve(ref);
    // Verify the artifacts before the model can serve valuations.
    this.load(id);
    this.db.transaction(() => {
      const prev = this.db.prepare(`SELECT id FROM models WHERE status = 'champion'`).get() as { id: string } | undefined;
      if (prev?.id === id) return;
      if (prev) this.db.prepare(`UPDATE models SET status = 'challenger' WHERE id = ?`).run(prev.id);
      this.db.prepare(`UPDATE models SET status = 'champion' WHERE id = ?`).run(id);
      this.db
        .prepare(`INSERT INTO model_promotions (model_id, previous_id, at, reason, who, undoes) VALUES (?, ?, ?, ?, ?, ?)`)
        .run(id, prev?.id ?? null, new Date().toISOString(), reason, who, undoes);
    })();
    return this.summary(id);
  }

  /**
   * Undoes the latest promotion not yet undone: its previous champion is champion again. A rollback is itself
   * never undone by the next one, so pressing it twice goes two promotions back rather than bringing the rolled
   * back model again.
   */
  rollback(reason?: string, who: string | null = null): ModelSummary {
    const last = this.undoable();
    if (!last?.previous_id) throw new AppraiseError('CONFLICT', 'nothing to roll back to: no earlier champion was recorded');
    const r = reason?.trim() ? `rollback from ${last.model_id.slice(0, 12)}: ${reason.trim()}` : `rollback from ${last.model_id.slice(0, 12)}`;
    return this.promote(last.previous_id, r, who, last.seq);
  }

  /** The model a rollback would restore now; null when there is none. */
  rollbackTarget(): ModelSummary | null {
    const last = this.undoable();
    return last?.previous_id ? this.summary(last.previous_id) : null;
  }

  /** Every champion change, newest first. */
  promotions(limit = 200): ChampionChange[] {
    const rows = this.db
      .prepare(
        `SELECT p.seq, p.model_id, p.previous_id, p.at, p.reason, p.who, p.undoes, m.name AS model_name, q.name AS previous_name
           FROM model_promotions p LEFT JOIN models m ON m.id = p.model_id LEFT JOIN models q ON q.id = p.previous_id
          ORDER BY p.seq DESC LIMIT ?`,
      )
      .all(limit) as {
      seq: number;
      model_id: string;
      previous_id: string | null;
      at: string;
      reason: string;
      who: string | null;
      undoes: number | null;
      model_name: string | null;
      previous_name: string | null;
    }[];
    return rows.map((r) => ({
      seq: r.seq,
      action: r.undoes === null ? 'promote' : 'rollback',
      modelId: r.model_id,
      modelName: r.model_name,
      previousId: r.previous_id,
      previousName: r.previous_name,
      at: r.at,
      reason: r.reason,
      who: r.who,
    }));
  }

  /** The latest promotion that is not a rollback and that no rollback has undone. */
  private undoable(): { seq: number; model_id: string; previous_id: string | null } | undefined {
    return this.db
      .prepare(
        `SELECT seq, model_id, previous_id FROM model_promotions p
          WHERE p.undoes IS NULL AND NOT EXISTS (SELECT 1 FROM model_promotions r WHERE r.undoes = p.seq)
          ORDER BY seq DESC LIMIT 1`,
      )
      .get() as { seq: number; model_id: string; previous_id: string | null } | undefined;
  }

  archive(ref: string): ModelSummary {
    const id = this.resolve(ref);
    const row = this.summary(id);
    if (row.status === 'champion') throw new AppraiseError('CONFLICT', 'the champion cannot be archived; promote another model (or roll back) first');
    this.db.prepare(`UPDATE models SET status = 'archived' WHERE id = ?`).run(id);
    return this.summary(id);
  }

  recalibrate(manifest: ModelManifest): ModelSummary {
    const id = this.resolve(manifest.modelId);
    const before = this.manifest(id);
    // Only the calibration may change: the id is the hash of the served ONNX bytes, and nothing else is re-derived.
    const strip = (m: ModelManifest) => canonicalJson({ ...m, intervals: null, cv: null, calibration: null });
    if (strip(before) !== strip(manifest)) throw new AppraiseError('INTERNAL', 'recalibrate may only change intervals, cv and calibration');
    const manifestSha = this.artifacts.put(Buffer.from(JSON.stringify(manifest)));
    this.db
      .prepare('UPDATE models SET manifest_sha256 = ?, cv_json = ? WHERE id = ?')
      .run(manifestSha, manifest.cv ? JSON.stringify(stripFolds(manifest.cv)) : null, id);
    return this.summary(id);
  }

  private toSummary(r: ModelRow): ModelSummary {
    const ds = r.dataset_id ? (this.db.prepare('SELECT name FROM datasets WHERE id = ?').get(r.dataset_id) as { name: string } | undefined) : undefined;
    return {
      id: r.id,
      name: r.name,
      status: r.status,
      mode: r.mode,
      createdAt: r.created_at,
      datasetId: r.dataset_id,
      datasetName: ds?.name ?? null,
      parentModelId: r.parent_id,
      nTrees: r.n_trees,
      cv: r.cv_json ? (JSON.parse(r.cv_json) as AccuracyMetrics) : null,
    };
  }
}

function parseArtifact(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (e) {
    throw new AppraiseError('BAD_FILE', `${what} is not valid JSON (${(e as Error).message}); re-import the model`);
  }
}

function describeIssues(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

function stripFolds(cv: NonNullable<ModelManifest['cv']>): AccuracyMetrics {
  const { folds: _folds, scheme: _scheme, ...pooled } = cv;
  return pooled;
}
