import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { AppraiseError } from '../common/errors.js';
import { exportTreeEnsembleToOnnx } from '../onnx/export-tree-ensemble.js';
import type { TreeEnsemble } from '../learner/model/tree-model.js';
import type { ModelManifest } from './model-schemas.js';
import { DATABASE_FILE } from '../workspace/workspace.js';
import { repoRoot, tempServices } from '../../test/helpers/temp-workspace.js';

// Issue 14, findings 2 and 7: edited model folders were imported as mode `full`. Every edit here is refused, naming
// what does not match; the genuine files still import.

const bundled = join(repoRoot, 'models', 'king-county');
let s: ReturnType<typeof tempServices>;
let exported: string;
let n = 0;

beforeAll(() => {
  s = tempServices();
  // The bundled manifest predates the envelope: it must still import (checked against its ensemble instead).
  const m = s.models.importFrom(join(bundled, 'model.onnx'), join(bundled, 'manifest.json'));
  expect(m.mode).toBe('full');
  exported = join(s.dir, 'exported');
  s.models.exportTo(m.id, exported);
});
afterAll(async () => s.cleanup());

/** A copy of the sealed export, edited by `edit`, then imported into a fresh workspace. */
function importEdited(edit: (files: { manifest: ModelManifest; ensemble: TreeEnsemble; dir: string }) => void): AppraiseError | 'imported' {
  const dir = join(s.dir, `edit-${n++}`);
  cpSync(exported, dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ModelManifest;
  const ensemble = JSON.parse(readFileSync(join(dir, 'ensemble.json'), 'utf8')) as TreeEnsemble;
  edit({ manifest, ensemble, dir });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(dir, 'ensemble.json'), JSON.stringify(ensemble));
  const fresh = tempServices();
  try {
    fresh.models.importFrom(join(dir, 'model.onnx'), join(dir, 'manifest.json'));
    return 'imported';
  } catch (e) {
    if (!(e instanceof AppraiseError)) throw e;
    return e;
  } finally {
    void fresh.cleanup();
  }
}

const expectRefused = (r: AppraiseError | 'imported', code: string, message: RegExp) => {
  expect(r).toBeInstanceOf(AppraiseError);
  expect((r as AppraiseError).code).toBe(code);
  expect((r as AppraiseError).message).toMatch(message);
};

const unsealed = (m: ModelManifest) => delete m.integrity;

describe('integrity envelope', () => {
  test('an export carries an envelope over all three files and re-imports unchanged', () => {
    const m = JSON.parse(readFileSync(join(exported, 'manifest.json'), 'utf8')) as { integrity: { files: Record<string, string> }; modelId: string };
    const hash = (f: string) => createHash('sha256').update(readFileSync(join(exported, f))).digest('hex');
    expect(m.integrity.files['model.onnx']).toBe(hash('model.onnx'));
    expect(m.integrity.files['ensemble.json']).toBe(hash('ensemble.json'));
    expect(importEdited(() => {})).toBe('imported');
  });

  test.each([
    ['collapsed intervals', (m: ModelManifest) => (m.intervals = m.intervals.map((i) => ({ ...i, quantile: 0 })))],
    ['transform: none', (m: ModelManifest) => (m.featureTransform.target.transform = 'none')],
    ['widened input ranges', (m: ModelManifest) => (m.featureRanges = (m.featureRanges ?? []).map((r) => ({ ...r, min: -1e9, max: 1e9 })))],
    ['forged CV metrics', (m: ModelManifest) => (m.cv!.rmseLog = 0.01)],
    ['swapped features', (m: ModelManifest) => m.featureTransform.features.reverse()],
  ])('an edited manifest (%s) is refused, naming manifest.json', (_what, edit) => {
    expectRefused(
      importEdited(({ manifest }) => edit(manifest)),
      'BAD_FILE',
      /do not match its integrity envelope: manifest\.json was changed/,
    );
  });

  test('an edited ensemble.json is refused, naming it', () => {
    const r = importEdited(({ ensemble }) => (ensemble.trees[0].value[ensemble.trees[0].feature.indexOf(-1)] += 0.5));
    expectRefused(r, 'BAD_FILE', /ensemble\.json was changed/);
  });

  test('a bit flip in model.onnx, with the model id removed from the manifest, is refused (finding 7)', () => {
    const flip = (dir: string) => {
      const bytes = readFileSync(join(dir, 'model.onnx'));
      bytes[bytes.length - 4096] ^= 0x10; // inside the tree weights, far from the header
      writeFileSync(join(dir, 'model.onnx'), bytes);
    };
    const sealed = importEdited(({ manifest, dir }) => {
      delete (manifest as Partial<ModelManifest>).modelId;
      flip(dir);
    });
    expectRefused(sealed, 'BAD_FILE', /model\.onnx was changed/);
    const bare = importEdited(({ manifest, dir }) => {
      delete (manifest as Partial<ModelManifest>).modelId;
      unsealed(manifest);
      flip(dir);
    });
    expectRefused(bare, 'BAD_FILE', /does not describe the ONNX model beside it/);
  });

  test('an edited envelope digest is refused', () => {
    expectRefused(
      importEdited(({ manifest }) => (manifest.integrity!.digest = '0'.repeat(64))),
      'BAD_FILE',
      /digest does not match/,
    );
  });
});

describe('without an envelope, the ensemble must still be the ONNX graph', () => {
  test('an edited ensemble.json is refused: its reasons would not add up to the estimate', () => {
    const r = importEdited(({ manifest, ensemble }) => {
      unsealed(manifest);
      ensemble.trees[3].value = ensemble.trees[3].value.map((v) => v * 2);
    });
    expectRefused(r, 'BAD_FILE', /does not describe the ONNX model beside it/);
  });

  test('a manifest that says transform "none" around a log-price model is refused', () => {
    const r = importEdited(({ manifest }) => {
      unsealed(manifest);
      manifest.featureTransform.target.transform = 'none';
    });
    expectRefused(r, 'BAD_FILE', /with target transform "none" it exports to a different graph/);
  });

  test.each([
    ['a cyclic tree', (e: TreeEnsemble) => (e.trees[2].left[0] = 0), /tree 2: node 0 is reached twice/],
    ['an empty tree', (e: TreeEnsemble) => (e.trees[1] = { feature: [], threshold: [], categories: [], defaultLeft: [], left: [], right: [], value: [], cover: [] }), /tree 1 has no nodes/],
    ['a field of the wrong type', (e: TreeEnsemble) => ((e as unknown as { baseScore: string }).baseScore = 'x'), /baseScore/],
  ])('%s is refused', (_what, edit, message) => {
    expectRefused(
      importEdited(({ manifest, ensemble }) => {
        unsealed(manifest);
        edit(ensemble);
      }),
      'BAD_FILE',
      message,
    );
  });

  test('the completed manifest must pass the full schema (fields the import itself does not read)', () => {
    const r = importEdited(({ manifest }) => {
      unsealed(manifest);
      (manifest as unknown as { featureRanges: string }).featureRanges = 'wide';
    });
    expectRefused(r, 'INVALID_INPUT', /featureRanges/);
  });
});

describe('on every load', () => {
  test('a registry row pointed at a manifest of another model is refused with BAD_FILE, not used', () => {
    const local = tempServices();
    try {
      const a = local.models.importFrom(join(bundled, 'model.onnx'), join(bundled, 'manifest.json'));
      // A second, different model: the same trees with another base score, exported by Appraise's exporter.
      const dir = join(local.dir, 'other');
      mkdirSync(dir);
      const ensemble = JSON.parse(readFileSync(join(bundled, 'ensemble.json'), 'utf8')) as TreeEnsemble;
      ensemble.baseScore += 0.01;
      const bytes = exportTreeEnsembleToOnnx(ensemble, { targetTransform: 'log', producerVersion: 'appraise 0.1.0' });
      const manifest = JSON.parse(readFileSync(join(bundled, 'manifest.json'), 'utf8')) as Record<string, unknown>;
      delete manifest.modelId;
      writeFileSync(join(dir, 'model.onnx'), bytes);
      writeFileSync(join(dir, 'ensemble.json'), JSON.stringify(ensemble));
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
      const b = local.models.importFrom(join(dir, 'model.onnx'), join(dir, 'manifest.json'));
      expect(b.id).not.toBe(a.id);
      const db = new Database(join(local.dir, 'ws', DATABASE_FILE));
      try {
        db.prepare('UPDATE models SET manifest_sha256 = (SELECT manifest_sha256 FROM models WHERE id = ?) WHERE id = ?').run(b.id, a.id);
      } finally {
        db.close();
      }
      let err: unknown;
      try {
        local.models.load(a.id);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AppraiseError);
      expect((err as AppraiseError).code).toBe('BAD_FILE');
      expect((err as AppraiseError).message).toMatch(/manifest names another model/);
    } finally {
      void local.cleanup();
    }
  });
});
