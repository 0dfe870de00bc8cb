import { AppraiseError } from '../common/errors.js';
import type { ModelManifest } from '../models/model-schemas.js';
import type { CompiledTransform } from '../features/feature-transform.js';

/**
 * Puts a model's outputs into both spaces Appraise uses: `raw` (transformed target, for intervals and SHAP) and
 * `estimate` (currency). Appraise exports give both; a single-output model imported from another tool gives one,
 * and its manifest says which (`onnx.outputSpace`).
 */
export function toBothSpaces(manifest: ModelManifest, compiled: CompiledTransform, raw: number, value: number): { raw: number; estimate: number } {
  const both = inBothSpaces(manifest, compiled, raw, value);
  // A price is finite and positive. Anything else comes from a broken or crafted model (a tree with a huge or
  // negative leaf, a forged transform), never from a property: refuse it as an error rather than report it.
  if (!Number.isFinite(both.estimate) || both.estimate <= 0 || !Number.isFinite(both.raw))
    throw new AppraiseError(
      'BAD_FILE',
      `model ${manifest.modelId.slice(0, 12)} gave ${Number.isFinite(both.estimate) ? 'a non-positive' : 'a non-finite'} estimate (${both.estimate}) for ${manifest.featureTransform.target.column}; the model is broken: promote or import another one`,
      { details: { modelId: manifest.modelId, estimate: String(both.estimate) } },
    );
  return both;
}

function inBothSpaces(manifest: ModelManifest, compiled: CompiledTransform, raw: number, value: number): { raw: number; estimate: number } {
  switch (manifest.onnx.outputSpace) {
    case 'transformed':
      return { raw, estimate: compiled.inverseTarget(raw) };
    case 'target':
      return { raw: compiled.target(value), estimate: value };
    default:
      return { raw, estimate: value };
  }
}
