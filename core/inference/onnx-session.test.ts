import { expect, test } from 'vitest';
import { predictRaw } from '../learner/model/tree-model.js';
import { exportTreeEnsembleToOnnx } from '../onnx/export-tree-ensemble.js';
import { attr, node, onnx, valueInfo } from '../onnx/onnx-proto.js';
import { syntheticEnsemble, syntheticRows } from '../../test/fixtures/synthetic-ensemble.js';
import { OnnxSession } from './onnx-session.js';

test('OnnxSession scores in-thread and closes exactly once', async () => {
  const model = syntheticEnsemble({ seed: 5, nTrees: 40, maxDepth: 4, nFeatures: 6, categorical: { 0: 12 } });
  const session = await OnnxSession.create(exportTreeEnsembleToOnnx(model, { targetTransform: 'log1p' }));
  expect(session.nFeatures).toBe(6);
  const X = syntheticRows(model, 20, 3);
  const { raw, value } = await session.run(X, 20, 6);
  for (let r = 0; r < 20; r++) {
    const ref = predictRaw(model, X.subarray(r * 6, r * 6 + 6));
    expect(raw[r]).toBeCloseTo(ref, 4);
    expect(Math.abs(value[r] - Math.expm1(ref)) / Math.expm1(ref)).toBeLessThan(1e-5);
  }
  await expect(session.run(X, 20, 5)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  await expect(session.run(X, 21, 6)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  await Promise.all([session.close(), session.close()]);
  await expect(session.run(X, 20, 6)).rejects.toMatchObject({ code: 'CONFLICT' });
});

test('an imported single-output regressor returns its output as raw and value', async () => {
  const bytes = onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [
        { domain: '', version: 15 },
        { domain: 'ai.onnx.ml', version: 3 },
      ],
      graph: {
        name: 'xgb',
        node: [
          node(
            'TreeEnsembleRegressor',
            ['input'],
            ['variable'],
            [
              attr.int('n_targets', 1),
              attr.ints('nodes_treeids', [0, 0, 0]),
              attr.ints('nodes_nodeids', [0, 1, 2]),
              attr.ints('nodes_featureids', [1, 0, 0]),
              attr.strings('nodes_modes', ['BRANCH_LT', 'LEAF', 'LEAF']),
              attr.floats('nodes_values', [0.5, 0, 0]),
              attr.ints('nodes_truenodeids', [1, 0, 0]),
              attr.ints('nodes_falsenodeids', [2, 0, 0]),
              attr.ints('target_treeids', [0, 0]),
              attr.ints('target_nodeids', [1, 2]),
              attr.ints('target_ids', [0, 0]),
              attr.floats('target_weights', [1, 2]),
              attr.floats('base_values', [10]),
            ],
            'ai.onnx.ml',
          ),
        ],
        input: [valueInfo('input', 'float32', ['N', 2])],
        output: [valueInfo('variable', 'float32', ['N', 1])],
      },
    }),
  ).finish();
  const session = await OnnxSession.create(bytes);
  const { raw, value } = await session.run(Float32Array.from([0, 0, 0, 1]), 2, 2);
  expect(Array.from(raw)).toEqual([11, 12]);
  expect(Array.from(value)).toEqual([11, 12]);
  await session.close();
});

test('bytes onnxruntime refuses are BAD_FILE', async () => {
  await expect(OnnxSession.create(new Uint8Array([8, 7, 1, 2, 3]))).rejects.toMatchObject({ code: 'BAD_FILE' });
});
