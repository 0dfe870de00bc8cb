import { describe, test, expect } from 'vitest';
import { AppraiseError } from '../common/errors.js';
import { checkImportable, inspectOnnx } from './inspect-onnx.js';
import { exportTreeEnsembleToOnnx } from './export-tree-ensemble.js';
import { attr, node, onnx, valueInfo, type IValueInfoProto } from './onnx-proto.js';
import { syntheticEnsemble } from '../../test/fixtures/synthetic-ensemble.js';

/** What onnxmltools writes for an XGBRegressor: input "input" float [N, F], one TreeEnsembleRegressor, output "variable" [N, 1]. */
function xgboostLike(
  opts: { inputs?: IValueInfoProto[]; outputs?: IValueInfoProto[]; mlOpset?: number; extraOpset?: { domain: string; version: number } } = {},
): Uint8Array {
  const inputs = opts.inputs ?? [valueInfo('input', 'float32', ['N', 4])];
  const outputs = opts.outputs ?? [valueInfo('variable', 'float32', ['N', 1])];
  const tree = node(
    'TreeEnsembleRegressor',
    [inputs[0].name!],
    [outputs[0].name!],
    [
      attr.int('n_targets', 1),
      attr.ints('nodes_treeids', [0, 0, 0]),
      attr.ints('nodes_nodeids', [0, 1, 2]),
      attr.ints('nodes_featureids', [2, 0, 0]),
      attr.strings('nodes_modes', ['BRANCH_LT', 'LEAF', 'LEAF']),
      attr.floats('nodes_values', [0.5, 0, 0]),
      attr.ints('nodes_truenodeids', [1, 0, 0]),
      attr.ints('nodes_falsenodeids', [2, 0, 0]),
      attr.ints('nodes_missing_value_tracks_true', [1, 0, 0]),
      attr.ints('target_treeids', [0, 0]),
      attr.ints('target_nodeids', [1, 2]),
      attr.ints('target_ids', [0, 0]),
      attr.floats('target_weights', [-0.1, 0.2]),
      attr.floats('base_values', [13]),
    ],
    'ai.onnx.ml',
  );
  const extraNodes = outputs.slice(1).map((o) => node('Identity', [outputs[0].name!], [o.name!]));
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'OnnxMLTools',
    producerVersion: '1.12.0',
    opsetImport: [{ domain: '', version: 15 }, { domain: 'ai.onnx.ml', version: opts.mlOpset ?? 3 }, ...(opts.extraOpset ? [opts.extraOpset] : [])],
    graph: { name: 'xgb', node: [tree, ...extraNodes], input: inputs, output: outputs },
  });
  return onnx.ModelProto.encode(model).finish();
}

function caught(fn: () => unknown): AppraiseError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppraiseError);
    return e as AppraiseError;
  }
  throw new Error('expected an AppraiseError');
}

describe('inspectOnnx', () => {
  test('reports opsets, inputs and outputs of an exported model', () => {
    const model = syntheticEnsemble({ seed: 1, nTrees: 5, maxDepth: 3, nFeatures: 6, categorical: { 1: 10 } });
    const s = inspectOnnx(exportTreeEnsembleToOnnx(model, { targetTransform: 'log', producerVersion: '0.1.0' }));
    expect(s.opsetImports).toEqual([
      { domain: 'ai.onnx', version: 17 },
      { domain: 'ai.onnx.ml', version: 5 },
    ]);
    expect(s.inputs).toEqual([{ name: 'features', elemType: 'float', shape: ['N', 6] }]);
    expect(s.outputs).toEqual([
      { name: 'raw', elemType: 'float', shape: ['N', 1] },
      { name: 'value', elemType: 'float', shape: ['N', 1] },
    ]);
    expect(s.operators['ai.onnx.ml:TreeEnsemble']).toBe(1);
    expect(s.producerName).toBe('appraise');
    expect(s.metadata['appraise.target_transform']).toBe('log');
  });

  test.each([
    ['empty', new Uint8Array(0), /empty/],
    ['random bytes', Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251), /not a valid ONNX model|truncated|not an ONNX model/],
    ['a ZIP archive', Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]), /ZIP archive/],
    ['an XGBoost JSON dump', new TextEncoder().encode('{"learner": {"gradient_booster": {}}}'), /JSON/],
    ['a CSV file', new TextEncoder().encode('id,price,sqft\n1,200000,1500\n'), /text file/],
    ['a truncated model', xgboostLike().subarray(0, 150), /truncated/],
  ])('rejects %s as BAD_FILE with a clear message', (_name, bytes, message) => {
    const e = caught(() => inspectOnnx(bytes));
    expect(e.code).toBe('BAD_FILE');
    expect(e.message).toMatch(message);
  });

  test('rejects a protobuf that is not a ModelProto', () => {
    // A valid TensorProto: decodes without error but has no graph.
    const bytes = onnx.TensorProto.encode({ dims: [2], dataType: 1, floatData: [1, 2], name: 'w' }).finish();
    const e = caught(() => inspectOnnx(bytes));
    expect(e.code).toBe('BAD_FILE');
    expect(e.message).toMatch(/not an ONNX model/);
  });
});

describe('checkImportable', () => {
  test('accepts an onnxmltools-style XGBoost regressor with [N, 1] or [N] output', () => {
    const ok = checkImportable(xgboostLike(), { nFeatures: 4 });
    expect(ok.inputName).toBe('input');
    expect(ok.outputName).toBe('variable');
    expect(ok.warnings).toEqual([]);
    const flat = checkImportable(xgboostLike({ outputs: [valueInfo('variable', 'float32', ['N'])] }), { nFeatures: 4 });
    expect(flat.outputName).toBe('variable');
  });

  test('warns when the feature count is not stated', () => {
    const ok = checkImportable(xgboostLike({ inputs: [valueInfo('input', 'float32', ['N', 'F'])] }), { nFeatures: 4 });
    expect(ok.warnings.join()).toMatch(/does not state its feature count/);
  });

  test.each([
    ['a wrong feature count', { inputs: [valueInfo('input', 'float32', ['N', 7])] }, /has 7 features but the dataset has 4/],
    ['a double input', { inputs: [valueInfo('input', 'float64', ['N', 4])] }, /tensor\(double\) but must be tensor\(float\).*FloatTensorType/],
    ['two inputs', { inputs: [valueInfo('a', 'float32', ['N', 2]), valueInfo('b', 'float32', ['N', 2])] }, /2 inputs \("a", "b"\)/],
    ['a fixed batch size', { inputs: [valueInfo('input', 'float32', [32, 4])] }, /fixed batch size of 32/],
    ['a classifier', { outputs: [valueInfo('label', 'float32', ['N']), valueInfo('probabilities', 'float32', ['N', 2])] }, /looks like a classifier/],
    ['a multi-target output', { outputs: [valueInfo('variable', 'float32', ['N', 3])] }, /multi-target/],
    ['a too-new ml opset', { mlOpset: 6 }, /ai.onnx.ml opset 6.*up to 5/],
    ['a custom-operator domain', { extraOpset: { domain: 'com.example.ops', version: 1 } }, /domain "com.example.ops"/],
  ])('rejects %s with INVALID_INPUT saying what to fix', (_name, opts, message) => {
    const e = caught(() => checkImportable(xgboostLike(opts), { nFeatures: 4 }));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toMatch(/^This ONNX model cannot be imported: /);
    expect(e.message).toMatch(message);
  });

  test("Appraise's own export is importable, with its raw output named", () => {
    const model = syntheticEnsemble({ seed: 2, nTrees: 3, maxDepth: 2, nFeatures: 4 });
    const ok = checkImportable(exportTreeEnsembleToOnnx(model, { targetTransform: 'log' }), { nFeatures: 4 });
    expect(ok).toMatchObject({ inputName: 'features', outputName: 'value', rawOutputName: 'raw', warnings: [] });
    expect(checkImportable(xgboostLike(), { nFeatures: 4 }).rawOutputName).toBeNull();
    const e = caught(() => checkImportable(exportTreeEnsembleToOnnx(model, { targetTransform: 'log' }), { nFeatures: 5 }));
    expect(e.message).toMatch(/has 4 features but the dataset has 5/);
  });
});
