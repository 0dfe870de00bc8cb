import type { TreeEnsemble } from '../learner/model/tree-model.js';
import type { ChampionChange, ModelManifest, ModelSummary } from './model-schemas.js';

export interface StoredModel {
  summary: ModelSummary;
  manifest: ModelManifest;
  onnx: Buffer;
  /** The tree ensemble (for TreeSHAP and warm starts); null for imported ONNX models. */
  ensemble: TreeEnsemble | null;
}

/**
 * The local model registry: each model's manifest, ONNX bytes and ensemble, and its status. At most one champion;
 * every promotion is recorded so `rollback` can restore the previous champion. `ref` is a full id, a unique id
 * prefix, or 'champion'.
 */
export interface ModelStore {
  /** Registers a model as a challenger. Idempotent: the same ONNX bytes are the same model. */
  add(manifest: ModelManifest, onnx: Uint8Array, ensemble: TreeEnsemble | null): ModelSummary;
  /** Newest first. */
  list(): ModelSummary[];
  /** The full id `ref` names; NOT_FOUND or INVALID_INPUT (ambiguous prefix) otherwise. */
  resolve(ref: string): string;
  summary(ref: string): ModelSummary;
  load(ref: string): StoredModel;
  manifest(ref: string): ModelManifest;
  /** `who`: the user making the change; `undoes`: the promotion (seq) a rollback undoes. */
  promote(ref: string, reason?: string, who?: string | null, undoes?: number | null): ModelSummary;
  /** Undoes the latest promotion not yet undone (see SqliteModelStore.rollback). */
  rollback(reason?: string, who?: string | null): ModelSummary;
  /** The model `rollback` would restore now; null when there is none. */
  rollbackTarget(): ModelSummary | null;
  /** Every champion change, newest first. */
  promotions(limit?: number): ChampionChange[];
  archive(ref: string): ModelSummary;
  /**
   * Replaces a model's manifest by one with new calibration figures (`intervals`, `cv`, `calibration`). The ONNX
   * bytes, and so the model id, stay the same; anything else changed is refused.
   */
  recalibrate(manifest: ModelManifest): ModelSummary;
}
