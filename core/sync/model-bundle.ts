import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AppraiseError } from '../common/errors.js';
import type { ModelService } from '../models/model-service.js';
import type { ModelSummary } from '../models/model-schemas.js';
import type { StoredModel } from '../models/model-store.js';

/**
 * A model travels as one file, so no part of it (ONNX, manifest, ensemble) can be swapped alone: TUF signs the
 * hash of the whole (encrypted) bundle.
 */
export const modelBundleSchema = z.object({
  format: z.literal('appraise-bundle/1'),
  /** The manifest as exported; checked against the local schema on import. */
  manifest: z.record(z.string(), z.unknown()),
  /** ONNX bytes, base64. */
  onnx: z.string().min(1),
  /** The tree ensemble (TreeSHAP, warm starts); null for imported ONNX models. */
  ensemble: z.unknown().nullable(),
});
export type ModelBundle = z.output<typeof modelBundleSchema>;

export function packBundle(model: StoredModel): Buffer {
  const bundle: ModelBundle = {
    format: 'appraise-bundle/1',
    manifest: model.manifest as unknown as Record<string, unknown>,
    onnx: model.onnx.toString('base64'),
    ensemble: model.ensemble,
  };
  return Buffer.from(JSON.stringify(bundle));
}

export function parseBundle(bytes: Uint8Array): ModelBundle {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new AppraiseError('BAD_FILE', 'the decrypted model bundle is not JSON');
  }
  const parsed = modelBundleSchema.safeParse(raw);
  if (!parsed.success)
    throw new AppraiseError(
      'BAD_FILE',
      `not an Appraise model bundle: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/**
 * Imports a bundle as a challenger through the models service, which checks the manifest against the local
 * schema and the ONNX bytes against the manifest's hash. The files are written to a scratch folder first; the
 * model only becomes visible when the store's insert commits.
 */
export function importBundle(models: ModelService, bundle: ModelBundle, scratchDir: string): ModelSummary {
  rmSync(scratchDir, { recursive: true, force: true });
  mkdirSync(scratchDir, { recursive: true });
  try {
    const onnx = join(scratchDir, 'model.onnx');
    const manifest = join(scratchDir, 'manifest.json');
    writeFileSync(onnx, Buffer.from(bundle.onnx, 'base64'));
    writeFileSync(manifest, JSON.stringify(bundle.manifest));
    if (bundle.ensemble !== null) writeFileSync(join(scratchDir, 'ensemble.json'), JSON.stringify(bundle.ensemble));
    return models.importFrom(onnx, manifest);
  } finally {
    rmSync(scratchDir, { recursive: true, force: true });
  }
}
