import { describe, test, expect } from 'vitest';
import { AppraiseError } from '../common/errors.js';
import { checkImportable } from './inspect-onnx.js';
import { exportTreeEnsembleToOnnx } from './export-tree-ensemble.js';
import { attr, node, onnx, tensor, valueInfo, type INodeProto, type ITensorProto } from './onnx-proto.js';
import { syntheticEnsemble } from '../../test/fixtures/synthetic-ensemble.js';

// Issue 14, findings 3, 4 and 7: crafted graphs that passed import. Each is refused before onnxruntime sees it.

const F = 4;

function model(nodes: INodeProto[], opts: { initializer?: ITensorProto[]; output?: string } = {}): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'crafted',
      opsetImport: [
        { domain: '', version: 17 },
        { domain: 'ai.onnx.ml', version: 3 },
      ],
      graph: {
        name: 'g',
        node: nodes,
        input: [valueInfo('input', 'float32', ['N', F])],
        output: [valueInfo(opts.output ?? 'variable', 'float32', ['N', 1])],
        initializer: opts.initializer ?? [],
      },
    }),
  ).finish();
}

/** A one-split TreeEnsembleRegressor from `input` to `out`, as onnxmltools writes for XGBoost. */
function tree(out: string, nTargets = 1): INodeProto {
  return node(
    'TreeEnsembleRegressor',
    ['input'],
    [out],
    [
      attr.int('n_targets', nTargets),
      attr.ints('nodes_treeids', [0, 0, 0]),
      attr.ints('nodes_nodeids', [0, 1, 2]),
      attr.ints('nodes_featureids', [0, 0, 0]),
      attr.strings('nodes_modes', ['BRANCH_LT', 'LEAF', 'LEAF']),
      attr.floats('nodes_values', [0.5, 0, 0]),
      attr.ints('nodes_truenodeids', [1, 0, 0]),
      attr.ints('nodes_falsenodeids', [2, 0, 0]),
      attr.ints('target_treeids', [0, 0]),
      attr.ints('target_nodeids', [1, 2]),
      attr.ints('target_ids', [0, 0]),
      attr.floats('target_weights', [-0.1, 0.2]),
      attr.floats('base_values', [13]),
    ],
    'ai.onnx.ml',
  );
}

function refusal(bytes: Uint8Array): AppraiseError {
  try {
    checkImportable(bytes, { nFeatures: F });
  } catch (e) {
    expect(e).toBeInstanceOf(AppraiseError);
    return e as AppraiseError;
  }
  throw new Error('the crafted model was accepted');
}

/** A tensor whose bytes live in a file beside the model: what onnxruntime would read from the working directory. */
function externalTensor(name: string): ITensorProto {
  return {
    name,
    dataType: onnx.TensorProto.DataType.FLOAT,
    dims: [F],
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [{ key: 'location', value: 'secrets.bin' }],
  };
}

describe('operator allow-list', () => {
  test('a plain tree ensemble with arithmetic around it is still importable', () => {
    const ok = model([tree('t'), node('Constant', [], ['c'], [attr.tensor('value', tensor('c', 'float32', [1]))]), node('Mul', ['t', 'c'], ['variable'])]);
    expect(checkImportable(ok, { nFeatures: F }).outputName).toBe('variable');
    // Appraise's own export, both encodings.
    const ens = syntheticEnsemble({ seed: 3, nTrees: 4, maxDepth: 3, nFeatures: F });
    for (const operator of ['TreeEnsemble', 'TreeEnsembleRegressor'] as const)
      expect(checkImportable(exportTreeEnsembleToOnnx(ens, { targetTransform: 'log1p', operator }), { nFeatures: F }).rawOutputName).toBe('raw');
  });

  test('a Loop of 10^15 iterations is refused at import (it froze the warm-up)', () => {
    const body = { name: 'body', node: [node('Identity', ['cond_in'], ['cond_out'])], input: [], output: [] };
    const loop = node('Loop', ['trip', 'cond'], ['variable'], [{ name: 'body', type: onnx.AttributeProto.AttributeType.GRAPH, g: body }]);
    const e = refusal(model([loop], { initializer: [{ name: 'trip', dataType: onnx.TensorProto.DataType.INT64, dims: [], int64Data: [1e15] }] }));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toMatch(/operators Appraise does not run for imported models \(Loop\)/);
    expect(e.message).toMatch(/carries a subgraph/);
  });

  test('a ConstantOfShape [60000, 60000] (a 14 GB allocation) is refused', () => {
    const shape: ITensorProto = { name: 'shape', dataType: onnx.TensorProto.DataType.INT64, dims: [2], int64Data: [60000, 60000] };
    const e = refusal(model([tree('t'), node('ConstantOfShape', ['shape'], ['big']), node('Add', ['t', 'big'], ['variable'])], { initializer: [shape] }));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toContain('(ConstantOfShape)');
  });

  test('custom-domain and unknown operators are refused, listed with counts', () => {
    const e = refusal(model([tree('a'), node('Tile', ['a', 'r'], ['b']), node('Tile', ['b', 'r'], ['variable'])]));
    expect(e.message).toContain('(Tile ×2)');
  });

  test('a multi-target tree node (an output wider than one value per row) is refused', () => {
    expect(refusal(model([tree('variable', 100000)])).message).toMatch(/n_targets 100000/);
  });
});

describe('external data anywhere in the graph', () => {
  test('a Constant node whose tensor points at a local file is refused (it read the file into the estimate)', () => {
    const e = refusal(model([tree('t'), node('Constant', [], ['c'], [attr.tensor('value', externalTensor('leak'))]), node('Add', ['t', 'c'], ['variable'])]));
    expect(e.code).toBe('BAD_FILE');
    expect(e.message).toMatch(/tensor "leak" in a separate external-data file/);
  });

  test('external data inside a subgraph is refused too', () => {
    const inner = { name: 'then', node: [node('Constant', [], ['x'], [attr.tensor('value', externalTensor('deep'))])], output: [] };
    const iff = node('If', ['cond'], ['variable'], [{ name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: inner }]);
    const e = refusal(model([iff]));
    expect(e.code).toBe('BAD_FILE');
    expect(e.message).toContain('"deep"');
  });

  test('a top-level initializer marked only by its external_data entries is refused', () => {
    const t = { ...externalTensor('w'), dataLocation: onnx.TensorProto.DataLocation.DEFAULT };
    expect(refusal(model([tree('t'), node('Add', ['t', 'w'], ['variable'])], { initializer: [t] })).message).toContain('"w"');
  });
});
