import { afterAll, beforeAll, expect, test } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppraiseError } from '../common/errors.js';
import { exportTreeEnsembleToOnnx, type TargetTransform } from '../onnx/export-tree-ensemble.js';
import type { TreeEnsemble } from '../learner/model/tree-model.js';
import type { ModelManifest } from '../models/model-schemas.js';
import { SqliteModelStore } from '../models/sqlite-model-store.js';
import { repoRoot, tempServices } from '../../test/helpers/temp-workspace.js';

// Issue 14, finding 7: a model whose output is negative valued a house at −$26,075 and exited 0. An estimate that is
// not a finite, positive price is an error (typed, never INTERNAL), never a value.

const bundled = join(repoRoot, 'models', 'king-county');
const kcRow = (() => {
  // The second sale: the first has no waterfront value.
  const [header, , second] = readFileSync(join(repoRoot, 'data', 'kc_house_sales.csv'), 'utf8').split('\n', 3);
  const cells = second.split(',');
  const known = new Set(
    Object.keys(
      (JSON.parse(readFileSync(join(bundled, 'manifest.json'), 'utf8')) as { datasetConfig: { dataset: { columns: object } } }).datasetConfig.dataset.columns,
    ),
  );
  return Object.fromEntries(header.split(',').flatMap((h, i) => (known.has(h) ? [[h, cells[i]]] : [])));
})();
let s: ReturnType<typeof tempServices>;

beforeAll(() => {
  s = tempServices();
});
afterAll(async () => s.cleanup());

/** The bundled trees with another base score (and target transform), imported as a consistent model folder. */
function variant(name: string, baseScore: number, transform: TargetTransform): string {
  const ensemble = JSON.parse(readFileSync(join(bundled, 'ensemble.json'), 'utf8')) as TreeEnsemble;
  ensemble.baseScore = baseScore;
  const manifest = JSON.parse(readFileSync(join(bundled, 'manifest.json'), 'utf8')) as {
    modelId?: string;
    name: string;
    featureTransform: { target: { transform: string } };
  };
  delete manifest.modelId;
  manifest.name = name;
  manifest.featureTransform.target.transform = transform;
  const dir = join(s.dir, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'model.onnx'), exportTreeEnsembleToOnnx(ensemble, { targetTransform: transform, producerVersion: 'appraise 0.1.0' }));
  writeFileSync(join(dir, 'ensemble.json'), JSON.stringify(ensemble));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return s.models.importFrom(join(dir, 'model.onnx'), join(dir, 'manifest.json')).id;
}

async function refusal(modelId: string): Promise<AppraiseError> {
  try {
    await s.valuation.value(modelId, kcRow, { valuationDate: '2015-03-01' });
  } catch (e) {
    expect(e).toBeInstanceOf(AppraiseError);
    return e as AppraiseError;
  }
  throw new Error('the broken model gave a value');
}

test('the genuine model still values the house at a positive price', async () => {
  const id = s.models.importFrom(join(bundled, 'model.onnx'), join(bundled, 'manifest.json')).id;
  const v = await s.valuation.value(id, kcRow, { valuationDate: '2015-03-01' });
  expect(v.estimate).toBeGreaterThan(50_000);
});

test('a model that predicts a negative price is refused with BAD_FILE naming the estimate', async () => {
  const e = await refusal(variant('negative', -1e6, 'none'));
  expect(e.code).toBe('BAD_FILE');
  expect(e.message).toMatch(/gave a non-positive estimate \(-\d+/);
});

test('a model whose estimate overflows to Infinity is refused with BAD_FILE', async () => {
  // 1e39 is a finite double but beyond float32: onnxruntime's base value becomes Infinity, exp(Infinity) too.
  const e = await refusal(variant('overflow', 1e39, 'log'));
  expect(e.code).toBe('BAD_FILE');
  expect(e.message).toMatch(/gave a non-finite estimate \(Infinity\)/);
});

test('a crafted Loop model registered before the allow-list existed is refused at valuation, not run', async () => {
  // Straight into the store, as an older Appraise would have accepted it: the valuation path must not hang on it.
  const { onnx, valueInfo, node } = await import('../onnx/onnx-proto.js');
  const { createHash } = await import('node:crypto');
  const manifest = JSON.parse(readFileSync(join(bundled, 'manifest.json'), 'utf8')) as ModelManifest;
  const nFeatures = manifest.featureTransform.features.length;
  const body = { name: 'body', node: [node('Identity', ['cond_in'], ['cond_out'])] };
  const bytes = onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'spin',
        node: [node('Loop', ['trip', 'cond'], ['variable'], [{ name: 'body', type: onnx.AttributeProto.AttributeType.GRAPH, g: body }])],
        input: [valueInfo('input', 'float32', ['N', nFeatures])],
        output: [valueInfo('variable', 'float32', ['N', 1])],
        initializer: [{ name: 'trip', dataType: onnx.TensorProto.DataType.INT64, dims: [], int64Data: [1e15] }],
      },
    }),
  ).finish();
  const id = createHash('sha256').update(bytes).digest('hex');
  // A second registry handle on the same workspace: the store itself does not re-check what import checked.
  new SqliteModelStore(s.workspace.db, s.workspace.artifacts).add(
    {
      ...manifest,
      modelId: id,
      name: 'spin',
      mode: 'imported',
      onnx: { ...manifest.onnx, sha256: id, inputName: 'input', outputName: 'variable', rawOutputName: null, outputSpace: 'target' },
    },
    bytes,
    null,
  );
  const e = await refusal(id);
  expect(e.code).toBe('BAD_FILE');
  expect(e.message).toMatch(/this model cannot be run: .*\(Loop\)/);
});
