import type { ModelManifest } from '../models/model-schemas.js';
import type { CompiledTransform } from '../features/feature-transform.js';

/**
 * Puts a model's outputs into both spaces Appraise uses: `raw` (transformed target, for intervals and SHAP) and
 * `estimate` (currency). Appraise exports give both; a single-output model imported from another tool gives one,
 * and its manifest says which (`onnx.outputSpace`).
 */
export function toBothSpaces(manifest: ModelManifest, compiled: CompiledTransform, raw: number, value: number): { raw: number; estimate: number } {
  switch (manifest.onnx.outputSpace) {
    case 'transformed':
      return { raw, estimate: compiled.inverseTarget(raw) };
    case 'target':
      return { raw: compiled.target(value), estimate: value };
    default:
      return { raw, estimate: value };
  }
}
