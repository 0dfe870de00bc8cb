import { createHash } from 'node:crypto';
import { badFile } from '../common/errors.js';
import { canonicalJson } from '../config/load-config.js';
import type { TreeEnsemble } from '../learner/model/tree-model.js';
import type { ModelEnvelope, ModelManifest } from './model-schemas.js';

/**
 * The integrity envelope over all of a model's files (issue 14, #2): the sha256 of the ONNX bytes, of the ensemble
 * and of the manifest itself (its canonical JSON without the envelope), and one digest over that hash list.
 * `exportTo` writes it into `manifest.json`; `importFrom` refuses a folder whose files do not match it, naming the
 * file. It is a hash list, not a signature: it catches edited, swapped and damaged files, not someone who rewrites
 * every hash (registry bundles are signed for that, see core/sync).
 */
export const ENVELOPE_FORMAT = 'appraise-envelope/1';

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** What the manifest hash covers: everything but the envelope, canonically ordered so key order does not matter. */
function manifestBody(manifest: ModelManifest): string {
  const { integrity: _integrity, ...body } = manifest;
  return canonicalJson(body);
}

/** The ensemble's hash as `exportTo` writes it (compact JSON), so a re-read file hashes the same. */
export function ensembleBytes(ensemble: TreeEnsemble): Buffer {
  return Buffer.from(JSON.stringify(ensemble));
}

export function computeEnvelope(manifest: ModelManifest, onnx: Uint8Array, ensemble: Uint8Array | null): ModelEnvelope {
  const files = { 'model.onnx': sha256(onnx), 'ensemble.json': ensemble ? sha256(ensemble) : null, 'manifest.json': sha256(manifestBody(manifest)) };
  return { format: ENVELOPE_FORMAT, files, digest: sha256(canonicalJson(files)) };
}

/**
 * Checks a model folder against the envelope its manifest carries. `ensemble` is the raw bytes of `ensemble.json`
 * (null when the folder has none). Throws BAD_FILE naming every file that does not match.
 */
export function verifyEnvelope(manifest: ModelManifest & { integrity: ModelEnvelope }, onnx: Uint8Array, ensemble: Uint8Array | null, where: string): void {
  const actual = computeEnvelope(manifest, onnx, ensemble);
  const claimed = manifest.integrity;
  const names = ['model.onnx', 'ensemble.json', 'manifest.json'] as const;
  const wrong = names.filter((n) => claimed.files[n] !== actual.files[n]);
  const describe = (n: (typeof names)[number]) =>
    claimed.files[n] === null
      ? `${n} is present but the envelope says the model has none`
      : actual.files[n] === null
        ? `${n} is missing`
        : `${n} was changed (hashes to ${actual.files[n]!.slice(0, 12)}, the envelope says ${claimed.files[n]!.slice(0, 12)})`;
  if (wrong.length > 0) throw badFile(`${where}: the model's files do not match its integrity envelope: ${wrong.map(describe).join('; ')}. Re-export the model from its workspace`);
  if (claimed.digest !== actual.digest) throw badFile(`${where}: the integrity envelope's digest does not match its own hash list (the envelope was edited)`);
}
