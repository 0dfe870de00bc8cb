/**
 * Exports an Appraise tree ensemble (core/learner/tree-model.ts) as an ONNX model that onnxruntime evaluates with
 * exactly the semantics of `predictRaw`.
 *
 * Graph: `features` float32 [N, F] → tree ensemble (+ base score) → `raw` float32 [N, 1] (transformed-target space,
 * e.g. log price) → inverse target transform → `value` float32 [N, 1] (e.g. price).
 *
 * Two encodings of the trees:
 * - `TreeEnsemble` (ai.onnx.ml opset 5, default): numeric splits are BRANCH_LEQ, categorical splits one
 *   BRANCH_MEMBER node whose categories are listed in `membership_values`.
 * - `TreeEnsembleRegressor` (ai.onnx.ml opset 3, for runtimes without opset 5): categorical splits become chains of
 *   BRANCH_EQ nodes (one per category, all sharing the true child), which is slower to evaluate.
 * In both, NaN follows `defaultLeft` through `nodes_missing_value_tracks_true` (left is always the true branch).
 * Category inputs must be integer codes, as the format says: onnxruntime 1.30 evaluates a BRANCH_MEMBER set with
 * values above 30 or with 31+ members as a "big set" that truncates a fractional input (3.2 matches 3), while
 * `predictRaw` and small sets treat 3.2 as no category (measured; non-integer codes are outside the contract).
 *
 * Precision: split decisions are exact either way (thresholds are float32-representable, features are float32).
 * With `precision: 'float32'` (the default) splits and leaf weights are float32 and onnxruntime accumulates the leaf
 * sum in float32 (its accumulator type follows the split type); the base score is added afterwards, so partial sums
 * stay small. Measured: ≤ 1e-7 relative on `raw` and ≤ 1e-6 on `value` for 200–500-tree models. With `'float64'`
 * the features are cast to double and everything is accumulated in double like `predictRaw` (≤ 6e-8 on `value`),
 * at ~12 % lower throughput with TreeEnsemble on onnxruntime-node 1.30.
 */
import type { SerializedTree, TreeEnsemble } from '../learner/model/tree-model.js';
import { invalidInput } from '../common/errors.js';
import { attr, node, onnx, tensor, valueInfo, type ElementType, type IAttributeProto, type INodeProto, type ITensorProto } from './onnx-proto.js';

export type TargetTransform = 'log' | 'log1p' | 'none';
export type TreeOperator = 'TreeEnsemble' | 'TreeEnsembleRegressor';
export type TreePrecision = 'float32' | 'float64';

export interface OnnxExportOptions {
  /** How the target was transformed before training; the `value` output applies the inverse. */
  targetTransform: TargetTransform;
  /** Default `TreeEnsemble` (ai.onnx.ml opset 5). */
  operator?: TreeOperator;
  /** Default `float32` (see the module comment). */
  precision?: TreePrecision;
  producerVersion?: string;
}

/** Names of the graph's input and outputs: the contract between the exporter and every runner. */
export const ONNX_INPUT = 'features';
export const ONNX_RAW_OUTPUT = 'raw';
export const ONNX_VALUE_OUTPUT = 'value';

/** Written as `ir_version`: IR 8 is what the bundled schema knows and what onnxruntime 1.30 accepts with ml opset 5. */
const IR_VERSION = 8;
/** ai.onnx opset for the arithmetic nodes (Cast, Add, Exp, Sub, Identity all exist unchanged there). */
const AI_ONNX_OPSET = 17;

const MODE_V5 = { BRANCH_LEQ: 0, BRANCH_LT: 1, BRANCH_MEMBER: 6 } as const;

/** Encodes the model as ONNX ModelProto bytes. Throws INVALID_INPUT for a structurally broken ensemble. */
export function exportTreeEnsembleToOnnx(model: TreeEnsemble, opts: OnnxExportOptions): Uint8Array {
  validateEnsemble(model);
  const operator = opts.operator ?? 'TreeEnsemble';
  const precision = opts.precision ?? 'float32';
  const nFeatures = model.featureNames.length;
  const dtype: ElementType = precision;

  const nodes: INodeProto[] = [];
  const initializers: ITensorProto[] = [];
  let treeInput = ONNX_INPUT;
  if (precision === 'float64') {
    nodes.push(node('Cast', [ONNX_INPUT], ['features_f64'], [attr.int('to', onnx.TensorProto.DataType.DOUBLE)]));
    treeInput = 'features_f64';
  }

  // `rawTyped` is the raw score in the working precision; `raw` the float32 graph output.
  const rawTyped = precision === 'float64' ? 'raw_f64' : ONNX_RAW_OUTPUT;
  if (operator === 'TreeEnsemble') {
    nodes.push(node('TreeEnsemble', [treeInput], ['tree_sum'], treeEnsembleV5Attributes(model, dtype), 'ai.onnx.ml'));
    initializers.push(tensor('base_score', dtype, [model.baseScore], []));
    nodes.push(node('Add', ['tree_sum', 'base_score'], [rawTyped]));
  } else {
    nodes.push(node('TreeEnsembleRegressor', [treeInput], [ONNX_RAW_OUTPUT], treeEnsembleRegressorAttributes(model, dtype), 'ai.onnx.ml'));
  }
  // TreeEnsembleRegressor always outputs float32 (base score included), so its inverse transform starts from `raw`.
  const fromRaw = operator === 'TreeEnsembleRegressor' || precision === 'float32' ? ONNX_RAW_OUTPUT : rawTyped;
  const fromType: ElementType = fromRaw === ONNX_RAW_OUTPUT ? 'float32' : 'float64';
  if (rawTyped !== ONNX_RAW_OUTPUT && operator === 'TreeEnsemble') {
    nodes.push(node('Cast', [rawTyped], [ONNX_RAW_OUTPUT], [attr.int('to', onnx.TensorProto.DataType.FLOAT)]));
  }

  const valueTyped = fromType === 'float64' ? 'value_f64' : ONNX_VALUE_OUTPUT;
  switch (opts.targetTransform) {
    case 'log':
      nodes.push(node('Exp', [fromRaw], [valueTyped]));
      break;
    case 'log1p':
      initializers.push(tensor('one', fromType, [1], []));
      nodes.push(node('Exp', [fromRaw], ['exp_raw']));
      nodes.push(node('Sub', ['exp_raw', 'one'], [valueTyped]));
      break;
    case 'none':
      nodes.push(node('Identity', [fromRaw], [valueTyped]));
      break;
    default:
      throw invalidInput(`unknown targetTransform ${String(opts.targetTransform)}: use 'log', 'log1p' or 'none'`);
  }
  if (valueTyped !== ONNX_VALUE_OUTPUT) {
    nodes.push(node('Cast', [valueTyped], [ONNX_VALUE_OUTPUT], [attr.int('to', onnx.TensorProto.DataType.FLOAT)]));
  }

  const proto = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'appraise',
    producerVersion: opts.producerVersion ?? '0',
    opsetImport: [
      { domain: '', version: AI_ONNX_OPSET },
      { domain: 'ai.onnx.ml', version: operator === 'TreeEnsemble' ? 5 : 3 },
    ],
    metadataProps: [
      { key: 'appraise.format', value: model.format },
      { key: 'appraise.target_transform', value: opts.targetTransform },
      { key: 'appraise.feature_names', value: JSON.stringify(model.featureNames) },
      { key: 'appraise.feature_kinds', value: JSON.stringify(model.featureKinds) },
    ],
    graph: {
      name: 'appraise_gbdt',
      node: nodes,
      initializer: initializers,
      input: [valueInfo(ONNX_INPUT, 'float32', ['N', nFeatures])],
      output: [valueInfo(ONNX_RAW_OUTPUT, 'float32', ['N', 1]), valueInfo(ONNX_VALUE_OUTPUT, 'float32', ['N', 1])],
    },
  });
  // protobufjs returns a Node Buffer that may be a view into a shared pool slab; hand out an owned copy.
  return new Uint8Array(onnx.ModelProto.encode(proto).finish());
}

/**
 * ai.onnx.ml TreeEnsemble-5: interior nodes and leaves are numbered separately across the whole ensemble; a branch
 * points either at an interior node or (when `nodes_*leafs` is 1) at a leaf. Nodes are written in pre-order.
 */
function treeEnsembleV5Attributes(model: TreeEnsemble, dtype: ElementType): IAttributeProto[] {
  const featureIds: number[] = [];
  const splits: number[] = [];
  const modes: number[] = [];
  const trueIds: number[] = [];
  const trueLeafs: number[] = [];
  const falseIds: number[] = [];
  const falseLeafs: number[] = [];
  const missingTrue: number[] = [];
  const membership: number[] = [];
  const leafWeights: number[] = [];
  const roots: number[] = [];

  for (const t of model.trees) {
    // Global index of each reachable node (pre-order): interior nodes into nodes_*, leaves into leaf_*.
    const order = preOrder(t);
    const index = new Map<number, number>();
    let interior = featureIds.length;
    let leaves = leafWeights.length;
    for (const i of order) index.set(i, t.feature[i] === -1 ? leaves++ : interior++);

    if (t.feature[0] === -1) {
      // A single-leaf tree: ONNX needs an interior root, so add one whose both branches reach the leaf.
      roots.push(featureIds.length);
      featureIds.push(0);
      splits.push(0);
      modes.push(MODE_V5.BRANCH_LEQ);
      trueIds.push(leafWeights.length);
      falseIds.push(leafWeights.length);
      trueLeafs.push(1);
      falseLeafs.push(1);
      missingTrue.push(0);
      leafWeights.push(t.value[0]);
      continue;
    }
    roots.push(index.get(0)!);
    for (const i of order) {
      if (t.feature[i] === -1) {
        leafWeights.push(t.value[i]);
        continue;
      }
      featureIds.push(t.feature[i]);
      const cats = t.categories[i];
      if (cats && cats.length > 0) {
        modes.push(MODE_V5.BRANCH_MEMBER);
        splits.push(0);
        // Sets are separated by NaN; sorted, because large sets are searched rather than bit-masked.
        if (membership.length > 0) membership.push(Number.NaN);
        membership.push(...[...cats].sort((a, b) => a - b));
      } else if (cats) {
        // An empty category set never sends a present value left: x < -Infinity is always false.
        modes.push(MODE_V5.BRANCH_LT);
        splits.push(Number.NEGATIVE_INFINITY);
      } else {
        modes.push(MODE_V5.BRANCH_LEQ);
        splits.push(t.threshold[i]);
      }
      const l = t.left[i];
      const r = t.right[i];
      trueIds.push(index.get(l)!);
      trueLeafs.push(t.feature[l] === -1 ? 1 : 0);
      falseIds.push(index.get(r)!);
      falseLeafs.push(t.feature[r] === -1 ? 1 : 0);
      missingTrue.push(t.defaultLeft[i] === 1 ? 1 : 0);
    }
  }

  const attrs: IAttributeProto[] = [
    attr.int('n_targets', 1),
    attr.int('aggregate_function', 1), // SUM
    attr.int('post_transform', 0), // NONE
    attr.ints('tree_roots', roots),
    attr.ints('nodes_featureids', featureIds),
    attr.tensor('nodes_splits', tensor('nodes_splits', dtype, splits)),
    attr.tensor('nodes_modes', tensor('nodes_modes', 'uint8', modes)),
    attr.ints('nodes_truenodeids', trueIds),
    attr.ints('nodes_trueleafs', trueLeafs),
    attr.ints('nodes_falsenodeids', falseIds),
    attr.ints('nodes_falseleafs', falseLeafs),
    attr.ints('nodes_missing_value_tracks_true', missingTrue),
    attr.ints('leaf_targetids', new Array<number>(leafWeights.length).fill(0)),
    attr.tensor('leaf_weights', tensor('leaf_weights', dtype, leafWeights)),
  ];
  if (membership.length > 0) attrs.push(attr.tensor('membership_values', tensor('membership_values', dtype, membership)));
  return attrs;
}

/** Reachable nodes of a (validated) tree in pre-order. */
function preOrder(t: SerializedTree): number[] {
  const out: number[] = [];
  const stack = [0];
  while (stack.length > 0) {
    const i = stack.pop()!;
    out.push(i);
    if (t.feature[i] !== -1) stack.push(t.right[i], t.left[i]);
  }
  return out;
}

/**
 * ai.onnx.ml TreeEnsembleRegressor-3: node ids restart at 0 in each tree and must be consecutive, so categorical
 * nodes expanded into BRANCH_EQ chains force a renumbering (pre-order walk).
 */
function treeEnsembleRegressorAttributes(model: TreeEnsemble, dtype: ElementType): IAttributeProto[] {
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const modes: string[] = [];
  const values: number[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const missingTrue: number[] = [];
  const targetTree: number[] = [];
  const targetNode: number[] = [];
  const targetWeights: number[] = [];

  model.trees.forEach((t, treeId) => {
    let next = 0;
    // Emits the subtree at `i` and returns the id of its first ONNX node.
    const emit = (i: number): number => {
      const push = (id: number, feature: number, mode: string, value: number, missing: number): number => {
        treeIds.push(treeId);
        nodeIds.push(id);
        featureIds.push(feature);
        modes.push(mode);
        values.push(value);
        trueIds.push(0);
        falseIds.push(0);
        missingTrue.push(missing);
        return treeIds.length - 1;
      };
      if (t.feature[i] === -1) {
        const id = next++;
        push(id, 0, 'LEAF', 0, 0);
        targetTree.push(treeId);
        targetNode.push(id);
        targetWeights.push(t.value[i]);
        return id;
      }
      const cats = t.categories[i];
      const missing = t.defaultLeft[i] === 1 ? 1 : 0;
      // Positions (into the flat arrays) of the nodes whose children are filled in below.
      const chain: number[] = [];
      const first = next;
      if (cats && cats.length > 0) {
        // x == c1 → left; else x == c2 → left; …; else → right. NaN takes the missing branch at the first node.
        for (const c of [...cats].sort((a, b) => a - b)) chain.push(push(next++, t.feature[i], 'BRANCH_EQ', c, missing));
      } else if (cats) {
        chain.push(push(next++, t.feature[i], 'BRANCH_LT', Number.NEGATIVE_INFINITY, missing));
      } else {
        chain.push(push(next++, t.feature[i], 'BRANCH_LEQ', t.threshold[i], missing));
      }
      const leftId = emit(t.left[i]);
      const rightId = emit(t.right[i]);
      for (let k = 0; k < chain.length; k++) {
        trueIds[chain[k]] = leftId;
        falseIds[chain[k]] = k + 1 < chain.length ? nodeIds[chain[k + 1]] : rightId;
      }
      return first;
    };
    emit(0);
  });

  const attrs: IAttributeProto[] = [
    attr.int('n_targets', 1),
    attr.string('aggregate_function', 'SUM'),
    attr.string('post_transform', 'NONE'),
    attr.ints('nodes_treeids', treeIds),
    attr.ints('nodes_nodeids', nodeIds),
    attr.ints('nodes_featureids', featureIds),
    attr.strings('nodes_modes', modes),
    attr.ints('nodes_truenodeids', trueIds),
    attr.ints('nodes_falsenodeids', falseIds),
    attr.ints('nodes_missing_value_tracks_true', missingTrue),
    attr.ints('target_treeids', targetTree),
    attr.ints('target_nodeids', targetNode),
    attr.ints('target_ids', new Array<number>(targetTree.length).fill(0)),
  ];
  if (dtype === 'float64') {
    attrs.push(
      attr.tensor('nodes_values_as_tensor', tensor('nodes_values_as_tensor', 'float64', values)),
      attr.tensor('target_weights_as_tensor', tensor('target_weights_as_tensor', 'float64', targetWeights)),
      attr.tensor('base_values_as_tensor', tensor('base_values_as_tensor', 'float64', [model.baseScore])),
    );
  } else {
    attrs.push(attr.floats('nodes_values', values), attr.floats('target_weights', targetWeights), attr.floats('base_values', [model.baseScore]));
  }
  return attrs;
}

/** Rejects ensembles whose arrays disagree or whose children point outside the tree, naming the tree and node. */
export function validateEnsemble(model: TreeEnsemble): void {
  const nFeatures = model.featureNames.length;
  if (nFeatures === 0) throw invalidInput('the model has no features');
  if (model.featureKinds.length !== nFeatures) throw invalidInput(`featureKinds has ${model.featureKinds.length} entries for ${nFeatures} features`);
  if (!Number.isFinite(model.baseScore)) throw invalidInput(`baseScore must be finite, got ${model.baseScore}`);
  if (model.trees.length === 0) throw invalidInput('the model has no trees');
  model.trees.forEach((t, ti) => validateTree(t, ti, nFeatures));
}

function validateTree(t: SerializedTree, ti: number, nFeatures: number): void {
  const n = t.feature.length;
  const arrays: [string, { length: number }][] = [
    ['threshold', t.threshold],
    ['categories', t.categories],
    ['defaultLeft', t.defaultLeft],
    ['left', t.left],
    ['right', t.right],
    ['value', t.value],
  ];
  if (n === 0) throw invalidInput(`tree ${ti} has no nodes`);
  for (const [name, a] of arrays) {
    if (a.length !== n) throw invalidInput(`tree ${ti}: ${name} has ${a.length} entries, feature has ${n}`);
  }
  // Every node reachable from the root exactly once: no cycles, no shared subtrees, children inside the tree.
  const seen = new Uint8Array(n);
  const stack = [0];
  while (stack.length > 0) {
    const i = stack.pop()!;
    if (seen[i]) throw invalidInput(`tree ${ti}: node ${i} is reached twice (the children arrays form a cycle or share a subtree)`);
    seen[i] = 1;
    if (t.feature[i] === -1) continue;
    for (const c of [t.left[i], t.right[i]]) {
      if (!Number.isInteger(c) || c < 0 || c >= n) throw invalidInput(`tree ${ti} node ${i}: child ${c} is not in 0..${n - 1}`);
      stack.push(c);
    }
  }
  for (let i = 0; i < n; i++) {
    const f = t.feature[i];
    if (f === -1) {
      if (!Number.isFinite(t.value[i])) throw invalidInput(`tree ${ti} leaf ${i}: value ${t.value[i]} is not finite`);
      continue;
    }
    if (!Number.isInteger(f) || f < 0 || f >= nFeatures) throw invalidInput(`tree ${ti} node ${i}: feature ${f} is not in 0..${nFeatures - 1}`);
    const cats = t.categories[i];
    if (cats) {
      for (const c of cats) {
        if (!Number.isInteger(c) || c < 0 || c >= 2 ** 24) throw invalidInput(`tree ${ti} node ${i}: category code ${c} is not a small non-negative integer`);
      }
    } else if (Number.isNaN(t.threshold[i]) || Math.fround(t.threshold[i]) !== t.threshold[i]) {
      throw invalidInput(`tree ${ti} node ${i}: threshold ${t.threshold[i]} is not a float32 value`);
    }
  }
}
