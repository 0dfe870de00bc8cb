import { afterAll, expect, test } from 'vitest';
import { AppraiseError } from '../core/common/errors.js';
import { predictRaw } from '../core/learner/model/tree-model.js';
import { exportTreeEnsembleToOnnx } from '../core/onnx/export-tree-ensemble.js';
import { attr, node, onnx, tensor, valueInfo, type IValueInfoProto } from '../core/onnx/onnx-proto.js';
import { ModelProcess } from '../core/inference/model-process.js';
import { OnnxInferencePool } from '../core/inference/onnx-inference-pool.js';
import { syntheticEnsemble, syntheticRows } from './fixtures/synthetic-ensemble.js';

// Issue 14, finding 3: a crafted graph froze the app (a Loop of 10^15 iterations) or asked for 14 GB
// (ConstantOfShape). Import refuses both operators now, so these graphs are loaded with the allow-list off, through
// the model process itself: what is tested here is the last line of defence, the time limit and the memory cap.

const F = 4;
const genuine = syntheticEnsemble({ seed: 5, nTrees: 40, maxDepth: 4, nFeatures: F });
const genuineBytes = exportTreeEnsembleToOnnx(genuine, { targetTransform: 'log' });
const X = syntheticRows(genuine, 3, 9);

const scalar = (name: string, elemType: number): IValueInfoProto => ({ name, type: { tensorType: { elemType, shape: { dim: [] } } } });
const INT64 = 7;
const BOOL = 9;

/** input [N, 4] → a Loop that adds 1 to it `trips` times → output. */
function loopModel(trips: number): Uint8Array {
  const body = {
    name: 'body',
    node: [node('Identity', ['cond_in'], ['cond_out']), node('Add', ['v_in', 'one'], ['v_out'])],
    input: [scalar('i', INT64), scalar('cond_in', BOOL), valueInfo('v_in', 'float32', ['N', F])],
    output: [scalar('cond_out', BOOL), valueInfo('v_out', 'float32', ['N', F])],
    initializer: [tensor('one', 'float32', [1], [])],
  };
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'crafted',
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'g',
        node: [
          { ...node('Loop', ['trip', 'cond', 'input'], ['variable']), attribute: [{ name: 'body', type: onnx.AttributeProto.AttributeType.GRAPH, g: body }] },
        ],
        input: [valueInfo('input', 'float32', ['N', F])],
        output: [valueInfo('variable', 'float32', ['N', F])],
        initializer: [
          { name: 'trip', dataType: INT64, dims: [], int64Data: [trips] },
          { name: 'cond', dataType: BOOL, dims: [], int32Data: [1] },
        ],
      },
    }),
  ).finish();
}

/** input [N, 4] (unused) → ConstantOfShape([side, side]): float zeros, side² × 4 bytes, filled when run. */
function bigAllocationModel(side: number): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'crafted',
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'g',
        node: [node('ConstantOfShape', ['shape'], ['variable'], [attr.tensor('value', tensor('v', 'float32', [1], [1]))])],
        input: [valueInfo('input', 'float32', ['N', F])],
        output: [valueInfo('variable', 'float32', [side, side])],
        initializer: [{ name: 'shape', dataType: INT64, dims: [2], int64Data: [side, side] }],
      },
    }),
  ).finish();
}

async function rejection(p: Promise<unknown>): Promise<AppraiseError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AppraiseError);
    return e as AppraiseError;
  }
  throw new Error('expected a rejection');
}

function expectGenuine(pred: { raw: Float32Array }) {
  for (let r = 0; r < 3; r++) expect(pred.raw[r]).toBeCloseTo(predictRaw(genuine, X.subarray(r * F, (r + 1) * F)), 4);
}

const processes: ModelProcess[] = [];
afterAll(() => Promise.all(processes.map((p) => p.close())));

test('a Loop of 10^15 iterations is stopped at the time limit, in words, and the process keeps serving', async () => {
  const mp = new ModelProcess({ timeLimitMs: 1500, timeLimitPerRowMs: 0 });
  processes.push(mp);
  await mp.load('genuine', genuineBytes);
  await mp.load('hostile', loopModel(1e15), { operatorAllowList: false });
  // A tiny loop runs to completion: the graph itself is valid, only its trip count is hostile.
  await mp.load('small-loop', loopModel(3), { operatorAllowList: false });
  expect(Array.from((await mp.predict('small-loop', new Float32Array(F), 1, F)).value)).toEqual([3, 3, 3, 3]);

  // The event loop stays free while the hostile call runs: a timer fires on time.
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 100);
  const started = performance.now();
  const e = await rejection(mp.predict('hostile', new Float32Array(F), 1, F));
  const took = performance.now() - started;
  clearInterval(ticker);
  expect(e.code).toBe('BAD_FILE');
  expect(e.message).toMatch(
    /the model took too long to value one property \(more than 1\.5 s\).*may be damaged or hostile.*Re-import it from a trusted source/,
  );
  expect(took).toBeGreaterThanOrEqual(1400);
  expect(took).toBeLessThan(5000);
  expect(ticks).toBeGreaterThanOrEqual(10);

  // The killed process is replaced and gets its models back: the genuine model still values.
  expectGenuine(await mp.predict('genuine', X, 3, F));
  expect(mp.spawned).toBe(2);
});

test('a 3.6 GB ConstantOfShape is stopped at the memory cap and the process keeps serving', async () => {
  const mp = new ModelProcess({ memoryLimitMb: 400, timeLimitMs: 20_000 });
  processes.push(mp);
  await mp.load('genuine', genuineBytes);
  await mp.load('hostile', bigAllocationModel(30_000), { operatorAllowList: false });
  const e = await rejection(mp.predict('hostile', new Float32Array(F), 1, F));
  expect(e.code).toBe('BAD_FILE');
  expect(e.message).toMatch(/the model needed more than 400 MiB of memory to value one property.*may be damaged or hostile/);
  expectGenuine(await mp.predict('genuine', X, 3, F));
});

test('the batch pool answers a hung chunk with the time limit, and its next batch is scored', async () => {
  const pool = new OnnxInferencePool({ size: 1, limits: { timeLimitMs: 1000, timeLimitPerRowMs: 0 } });
  try {
    await pool.loadModel('genuine', genuineBytes);
    await pool.loadModel('hostile', loopModel(1e15), { operatorAllowList: false });
    const e = await rejection(pool.predict('hostile', new Float32Array(F * 40), 40, F));
    expect(e.code).toBe('BAD_FILE');
    expect(e.message).toMatch(/took too long to value 40 properties/);
    expectGenuine(await pool.predict('genuine', X, 3, F));
  } finally {
    await pool.close();
  }
});

test('limits are checked, and an installation can set them in the environment', () => {
  expect(() => new ModelProcess({ timeLimitMs: Number.NaN })).toThrow(/timeLimitMs must be a number/);
  const saved = process.env.APPRAISE_MODEL_TIME_LIMIT_MS;
  try {
    process.env.APPRAISE_MODEL_TIME_LIMIT_MS = 'soon';
    expect(() => new ModelProcess()).toThrow(/APPRAISE_MODEL_TIME_LIMIT_MS must be a positive number, got "soon"/);
    process.env.APPRAISE_MODEL_TIME_LIMIT_MS = '2500';
    expect((new ModelProcess() as unknown as { opts: { timeLimitMs: number } }).opts.timeLimitMs).toBe(2500);
  } finally {
    if (saved === undefined) delete process.env.APPRAISE_MODEL_TIME_LIMIT_MS;
    else process.env.APPRAISE_MODEL_TIME_LIMIT_MS = saved;
  }
});
