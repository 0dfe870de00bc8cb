/**
 * Reads an ONNX file far enough to say what it is (opsets, inputs, outputs, operators) and whether Appraise can use
 * it as an external regression model, without starting onnxruntime. Every rejection says what is wrong and what to
 * do about it; damaged or foreign files are BAD_FILE, valid ONNX that does not fit is INVALID_INPUT.
 */
import { AppraiseError, badFile } from '../common/errors.js';
import { dataTypeName, onnx, type IValueInfoProto, type ModelProto } from './onnx-proto.js';

type DecodedGraph = InstanceType<typeof onnx.GraphProto>;

export interface OnnxTensorInfo {
  name: string;
  /** ONNX element type in lower case (`float`, `double`, `int64`…), or the kind of a non-tensor value (`sequence`, `map`). */
  elemType: string;
  /** Per dimension: a number when fixed, a string when symbolic (e.g. `N`), null when unknown; null for unknown rank. */
  shape: (number | string | null)[] | null;
}

export interface OnnxModelSummary {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  opsetImports: { domain: string; version: number }[];
  inputs: OnnxTensorInfo[];
  outputs: OnnxTensorInfo[];
  /** Operator types used by the graph with their counts, e.g. `ai.onnx.ml:TreeEnsembleRegressor`. */
  operators: Record<string, number>;
  metadata: Record<string, string>;
  sizeBytes: number;
}

/**
 * Highest opset per domain that onnxruntime-node 1.30 loads (probed: ai.onnx 27 and ai.onnx.ml 6 are refused at
 * session creation). Other domains are custom operators it does not have.
 */
const RUNTIME_OPSETS: Record<string, number> = { 'ai.onnx': 26, 'ai.onnx.ml': 5, 'com.microsoft': 1 };

export function parseOnnx(bytes: Uint8Array): ModelProto {
  if (bytes.length === 0) throw badFile('the file is empty: choose the .onnx file that the converter wrote');
  const hint = foreignFormatHint(bytes);
  if (hint) throw badFile(`this is not an ONNX model: ${hint}`);
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    // Every ONNX writer starts with field 1 (ir_version, varint tag 0x08); only then is "ran out of bytes" truncation.
    const truncated = bytes[0] === 0x08 && /index out of range|premature|EOF/i.test(why);
    throw badFile(
      truncated
        ? `the ONNX file is truncated (${bytes.length} bytes, the protobuf ends early: ${why}); copy or download it again`
        : `the file is not an ONNX model, or it is corrupt (protobuf: ${why}); export it again as .onnx from the training tool`,
      { cause: why },
    );
  }
  const irVersion = Number(model.irVersion ?? 0);
  if (!model.graph || irVersion <= 0 || model.opsetImport.length === 0) {
    throw badFile('the file decodes as protobuf but is not an ONNX model (no graph, IR version or opset imports); export it again as .onnx');
  }
  // Decoded messages always carry their repeated fields (empty arrays), unlike the optional creation interfaces.
  const graph = model.graph as DecodedGraph;
  if (graph.node.length === 0 || graph.output.length === 0) {
    throw badFile('the ONNX model has an empty graph (no nodes or no outputs); export the trained model, not an empty template');
  }
  // Anywhere in the graph, not only the top-level initializers: a Constant node's tensor (or one inside a subgraph)
  // that points at an external file makes onnxruntime read that file from the working directory (issue 14, #4).
  const external = findExternalTensor(graph);
  if (external) {
    throw badFile(`the ONNX model keeps tensor "${external}" in a separate external-data file; save it as one self-contained .onnx file`);
  }
  return model;
}

type DecodedTensor = InstanceType<typeof onnx.TensorProto>;
type DecodedAttribute = InstanceType<typeof onnx.AttributeProto>;

/** Every subgraph held by a node attribute (the bodies of Loop, If, Scan…). */
function subgraphs(a: DecodedAttribute): DecodedGraph[] {
  return [...(a.g ? [a.g as DecodedGraph] : []), ...((a.graphs ?? []) as DecodedGraph[])];
}

/** Name of the first tensor (initializer, sparse initializer, node attribute, at any depth) stored as external data. */
function findExternalTensor(graph: DecodedGraph, depth = 0): string | null {
  // Protobuf nesting is bounded by the decoder's recursion limit; this keeps a crafted file from blowing the stack.
  if (depth > 64) return '(nested subgraphs)';
  const isExternal = (t: DecodedTensor | null | undefined) =>
    !!t && (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (t.externalData ?? []).length > 0);
  const sparse = (graph.sparseInitializer ?? []).flatMap((s) => [s.values, s.indices]);
  for (const t of [...graph.initializer, ...sparse] as (DecodedTensor | null | undefined)[]) if (isExternal(t)) return t?.name || '(unnamed)';
  for (const n of graph.node) {
    for (const a of n.attribute as DecodedAttribute[]) {
      const tensors = [
        a.t,
        ...(a.tensors ?? []),
        a.sparseTensor?.values,
        a.sparseTensor?.indices,
        ...(a.sparseTensors ?? []).flatMap((s) => [s.values, s.indices]),
      ];
      for (const t of tensors as (DecodedTensor | null | undefined)[]) if (isExternal(t)) return t?.name || `${n.opType ?? 'node'} attribute ${a.name}`;
      for (const g of subgraphs(a)) {
        const inner = findExternalTensor(g, depth + 1);
        if (inner) return inner;
      }
    }
  }
  return null;
}

/**
 * The operators an imported model may use: tree ensembles and the element-wise arithmetic and shape plumbing that
 * Appraise's exporter and the usual converters (onnxmltools for XGBoost/LightGBM, skl2onnx) put around them. Nothing
 * that loops (Loop, Scan, If with subgraphs), allocates from a runtime shape (ConstantOfShape, Expand, Tile, Range)
 * or touches anything but its inputs: a model is data, and an untrusted one must not be able to freeze or starve the
 * app (issue 14, #3).
 */
const ALLOWED_OPERATORS: ReadonlySet<string> = new Set([
  'ai.onnx.ml:TreeEnsemble',
  'ai.onnx.ml:TreeEnsembleRegressor',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Exp',
  'Cast',
  'Identity',
  'Reshape',
  'Flatten',
  'Squeeze',
  'Unsqueeze',
  'Constant',
]);

/** Tree operators whose `n_targets` sets the width of the output onnxruntime allocates per row. */
const TREE_OPERATORS: ReadonlySet<string> = new Set(['ai.onnx.ml:TreeEnsemble', 'ai.onnx.ml:TreeEnsembleRegressor']);

/** Problems with the graph's operators: anything outside the allow-list, any subgraph, a multi-target tree node. */
function operatorProblems(graph: DecodedGraph): string[] {
  const refused = new Map<string, number>();
  const problems: string[] = [];
  for (const n of graph.node) {
    const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}:${n.opType ?? ''}` : (n.opType ?? '');
    if (!ALLOWED_OPERATORS.has(key)) refused.set(key, (refused.get(key) ?? 0) + 1);
    const attrs = n.attribute as DecodedAttribute[];
    if (attrs.some((a) => subgraphs(a).length > 0)) problems.push(`node "${n.name || key}" carries a subgraph; Appraise imports only flat graphs`);
    if (TREE_OPERATORS.has(key)) {
      const nTargets = Number(attrs.find((a) => a.name === 'n_targets')?.i ?? 1);
      if (nTargets !== 1) problems.push(`tree node "${n.name || key}" has n_targets ${nTargets}; a price model predicts one value per row`);
    }
  }
  if (refused.size > 0) {
    const list = [...refused].map(([op, count]) => (count > 1 ? `${op} ×${count}` : op)).join(', ');
    problems.unshift(
      `it uses operators Appraise does not run for imported models (${list}); only tree ensembles (TreeEnsembleRegressor, TreeEnsemble) with element-wise arithmetic (${[...ALLOWED_OPERATORS].filter((o) => !TREE_OPERATORS.has(o)).join(', ')}) are allowed`,
    );
  }
  return problems;
}

/**
 * Refuses, before any onnxruntime session is created, a graph that could read files or run unbounded: external
 * data anywhere, operators outside the allow-list, subgraphs. Import checks the same; this also covers models
 * registered before the allow-list existed, on every path that opens a session. Throws BAD_FILE.
 */
export function assertSandboxed(bytes: Uint8Array): void {
  const problems = operatorProblems(parseOnnx(bytes).graph as DecodedGraph);
  if (problems.length > 0)
    throw badFile(`this model cannot be run: ${problems.join('; ')}; import a model built with Appraise or a supported converter`, { problems });
}

/** Parses and summarizes an ONNX model. Throws BAD_FILE for anything that is not a readable ONNX model. */
export function inspectOnnx(bytes: Uint8Array): OnnxModelSummary {
  const model = parseOnnx(bytes);
  const graph = model.graph as DecodedGraph;
  const initializers = new Set(graph.initializer.map((t) => t.name ?? ''));
  const operators: Record<string, number> = {};
  for (const n of graph.node) {
    const key = n.domain ? `${n.domain}:${n.opType ?? ''}` : (n.opType ?? '');
    operators[key] = (operators[key] ?? 0) + 1;
  }
  return {
    irVersion: Number(model.irVersion),
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    opsetImports: model.opsetImport.map((o) => ({ domain: o.domain || 'ai.onnx', version: Number(o.version) })),
    // IR < 4 lists initializers among the inputs; they are weights, not something a caller feeds.
    inputs: graph.input.filter((i) => !initializers.has(i.name ?? '')).map(tensorInfo),
    outputs: graph.output.map(tensorInfo),
    operators,
    metadata: Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value])),
    sizeBytes: bytes.length,
  };
}

function tensorInfo(v: IValueInfoProto): OnnxTensorInfo {
  const name = v.name ?? '';
  const t = v.type;
  if (!t?.tensorType) {
    const kind = t?.sequenceType ? 'sequence' : t?.mapType ? 'map' : t?.sparseTensorType ? 'sparse_tensor' : t?.optionalType ? 'optional' : 'unknown';
    return { name, elemType: kind, shape: null };
  }
  const shape = t.tensorType.shape
    ? (t.tensorType.shape.dim ?? []).map((d) =>
        d.dimParam ? d.dimParam : d.dimValue !== null && d.dimValue !== undefined && Number(d.dimValue) > 0 ? Number(d.dimValue) : null,
      )
    : null;
  return { name, elemType: dataTypeName(t.tensorType.elemType ?? 0), shape };
}

export interface ImportableModel {
  summary: OnnxModelSummary;
  inputName: string;
  /** The output in target space (price): `value` for an Appraise export, the single output otherwise. */
  outputName: string;
  /** The transformed-target output (`raw`) of an Appraise export; null for external models. */
  rawOutputName: string | null;
  /** Notes that do not block the import (e.g. a feature count the file does not state). */
  warnings: string[];
}

export interface ImportExpectation {
  /** Number of feature columns Appraise will feed, in the dataset's feature order. */
  nFeatures: number;
}

/**
 * Checks that an ONNX model is a regressor Appraise can feed: one float32 input [N, F] with F =
 * `expected.nFeatures`, and either one float32 output [N] or [N, 1] (an external model, e.g. XGBoost or LightGBM
 * converted by onnxmltools) or Appraise's own pair of float32 [N, 1] outputs `raw` and `value`; only opsets
 * that onnxruntime-node implements; and only allow-listed operators (`ALLOWED_OPERATORS`) in a flat graph. Throws BAD_FILE for unreadable files and INVALID_INPUT listing every problem.
 */
export function checkImportable(bytes: Uint8Array, expected: ImportExpectation): ImportableModel {
  const summary = inspectOnnx(bytes);
  const problems: string[] = operatorProblems(parseOnnx(bytes).graph as DecodedGraph);
  const warnings: string[] = [];
  const reconvert = `re-convert with one input, e.g. onnxmltools convert_xgboost(model, initial_types=[("features", FloatTensorType([None, ${expected.nFeatures}]))])`;

  for (const o of summary.opsetImports) {
    const max = RUNTIME_OPSETS[o.domain];
    if (max === undefined)
      problems.push(`it uses operators from domain "${o.domain}", which onnxruntime-node does not provide; convert without custom operators`);
    else if (o.version > max)
      problems.push(`it needs ${o.domain} opset ${o.version} but onnxruntime-node 1.30 supports up to ${max}; convert with target_opset ${max} or lower`);
  }

  const [input] = summary.inputs;
  if (summary.inputs.length !== 1) {
    const names = summary.inputs.map((i) => `"${i.name}"`).join(', ');
    problems.push(`it has ${summary.inputs.length} inputs (${names}) but Appraise feeds a single float matrix [N, ${expected.nFeatures}]; ${reconvert}`);
  } else {
    if (input.elemType !== 'float') {
      problems.push(`input "${input.name}" is tensor(${input.elemType}) but must be tensor(float); ${reconvert}`);
    }
    if (input.shape && input.shape.length !== 2) {
      problems.push(`input "${input.name}" has rank ${input.shape.length} but must be a matrix [N, ${expected.nFeatures}]; ${reconvert}`);
    } else if (input.shape) {
      const [rows, cols] = input.shape;
      if (typeof cols === 'number' && cols !== expected.nFeatures) {
        problems.push(
          `input "${input.name}" has ${cols} features but the dataset has ${expected.nFeatures}; train and convert the model on the same feature columns, in the same order`,
        );
      } else if (typeof cols !== 'number') {
        warnings.push(
          `input "${input.name}" does not state its feature count; make sure it was trained on the ${expected.nFeatures} dataset features in order`,
        );
      }
      if (typeof rows === 'number' && rows !== 1) {
        problems.push(`input "${input.name}" has a fixed batch size of ${rows}; convert with a dynamic batch dimension (None)`);
      } else if (rows === 1) {
        warnings.push(
          `input "${input.name}" has a fixed batch size of 1, so rows are scored one at a time (slow); convert with a dynamic batch dimension (None)`,
        );
      }
    } else {
      warnings.push(`input "${input.name}" does not state its shape; make sure it takes [N, ${expected.nFeatures}]`);
    }
  }

  const appraise = isAppraiseOutputs(summary.outputs);
  const [output] = appraise ? summary.outputs.filter((o) => o.name === 'value') : summary.outputs;
  if (appraise) {
    // Both outputs already checked to be float [N, 1].
  } else if (summary.outputs.length !== 1) {
    const names = summary.outputs.map((o) => `"${o.name}" (${o.elemType})`).join(', ');
    const classifier = summary.outputs.some((o) => /label|probab/i.test(o.name) || o.elemType === 'sequence' || o.elemType === 'int64');
    problems.push(
      `it has ${summary.outputs.length} outputs (${names}) but must have one predicted value per row` +
        (classifier ? '; this looks like a classifier: train a regressor (e.g. XGBRegressor) instead' : '; remove the extra outputs when converting'),
    );
  } else if (output.elemType !== 'float') {
    problems.push(
      `output "${output.name}" is ${output.elemType === 'sequence' || output.elemType === 'map' ? output.elemType : `tensor(${output.elemType})`} but must be tensor(float) [N] or [N, 1]`,
    );
  } else if (output.shape) {
    const ok = output.shape.length === 1 || (output.shape.length === 2 && (output.shape[1] === 1 || output.shape[1] === null));
    if (!ok)
      problems.push(
        `output "${output.name}" has shape [${output.shape.map((d) => d ?? '?').join(', ')}] but must be [N] or [N, 1] (one value per row): a multi-target model cannot be imported`,
      );
  }

  if (problems.length > 0) {
    throw new AppraiseError('INVALID_INPUT', `This ONNX model cannot be imported: ${problems.join('; ')}.`, { details: { problems, summary } });
  }
  return { summary, inputName: input.name, outputName: output.name, rawOutputName: appraise ? 'raw' : null, warnings };
}

/** Appraise's own export (core/onnx/export-tree-ensemble.ts): outputs `raw` and `value`, both float [N, 1]. */
function isAppraiseOutputs(outputs: OnnxTensorInfo[]): boolean {
  return (
    outputs.length === 2 &&
    ['raw', 'value'].every((name) =>
      outputs.some((o) => o.name === name && o.elemType === 'float' && (!o.shape || (o.shape.length === 2 && (o.shape[1] === 1 || o.shape[1] === null)))),
    )
  );
}

/** Recognizes files people pick by mistake, so the message can say what they are. */
function foreignFormatHint(bytes: Uint8Array): string | null {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 16));
  if (head.startsWith('PK\x03\x04')) return 'it is a ZIP archive; extract the .onnx file from it first';
  if (head.startsWith('\x1f\x8b')) return 'it is gzip-compressed; decompress it first';
  if (head.startsWith('SQLite format 3')) return 'it is an SQLite database';
  if (head.startsWith('%PDF')) return 'it is a PDF document';
  if (head.startsWith('\x80') && bytes.length > 1 && bytes[1] <= 5)
    return 'it is a Python pickle (e.g. a joblib/sklearn dump); convert the model to ONNX with onnxmltools or skl2onnx';
  if (/^\s*[{[]/.test(head)) return 'it is JSON (an XGBoost/LightGBM model dump?); convert the trained model to ONNX with onnxmltools';
  if (/^\s*(tree|version=|booster|<)/i.test(head)) return 'it is a text model file; convert the trained model to ONNX with onnxmltools';
  // A ModelProto starts with field 1 (ir_version, varint: 0x08) in every converter we know of; text never does.
  const printable = bytes.subarray(0, Math.min(bytes.length, 256)).every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
  if (printable) return 'it is a text file; choose the binary .onnx file';
  return null;
}
