/**
 * Scoring benchmark: a 500-tree depth-6 ensemble (trained by core/learner on the KC anchor data when it is present,
 * else synthetic: 20 features, one categorical with 70 levels) exported to ONNX,
 * scored by bare onnxruntime-node (one InferenceSession, default threads) and by our worker pool, at batch sizes
 * 1/64/1024/65536; single-row latency (in-thread OnnxSession vs pool vs bare); TreeEnsemble-5 with set membership
 * vs TreeEnsembleRegressor-3 with BRANCH_EQ chains; float32 vs float64 precision.
 *
 *   npm run bench -- score [--quick] [--synthetic] [--trees 500] [--depth 6] [--pool 2] [--seconds 2]
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import { exportTreeEnsembleToOnnx, type TreeOperator, type TreePrecision } from '../core/onnx/export-tree-ensemble.js';
import { syntheticEnsemble, syntheticRows } from '../test/fixtures/synthetic-ensemble.js';
import { OnnxInferencePool } from '../core/inference/onnx-inference-pool.js';
import { OnnxSession } from '../core/inference/onnx-session.js';
import { trainGbdt } from '../core/learner/boosting/gbdt-trainer.js';
import type { TreeEnsemble } from '../core/learner/model/tree-model.js';
import { KC_DATA_PATH, KC_FOLDS_PATH, kcFoldRows, loadKcAnchorTable } from './kc-anchor-matrix.js';
import { recordFigure } from './bench-results.js';

/** The pool against the better of the bare settings (default threads or one intra-op thread), batch ≥ 64. */
const TARGET_RATIO = 0.5;

export const description =
  'rows/s of our ONNX worker pool vs bare onnxruntime-node (batch 1/64/1024/65536), single-row p50/p99, TreeEnsemble membership vs EQ chains';

/** Features of the synthetic models (the KC model has its own 19). */
const SYNTHETIC_FEATURES = 20;
const BATCHES = [1, 64, 1024, 65536];

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
}

/** Calls `once` back to back (keeping `parallel` calls in flight) for about `seconds`; returns calls per second. */
async function callsPerSecond(once: () => Promise<unknown>, seconds: number, parallel = 1): Promise<number> {
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  let calls = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (performance.now() < end) {
        await once();
        calls++;
      }
    }),
  );
  return calls / ((performance.now() - start) / 1000);
}

interface Contender {
  once: () => Promise<unknown>;
  parallel?: number;
}

/**
 * Rows/s of each contender, measured round-robin `k` times (A B C A B C …) for `seconds / k` each, keeping each
 * one's best round: on a shared, noisy machine the best round is the least disturbed, and interleaving exposes all
 * contenders to the same drift.
 */
async function interleavedBest(contenders: Contender[], rowsPerCall: number, seconds: number, k: number): Promise<number[]> {
  for (const c of contenders) await Promise.all(Array.from({ length: c.parallel ?? 1 }, () => c.once())); // warm-up
  const best = contenders.map(() => 0);
  for (let round = 0; round < k; round++) {
    for (const [i, c] of contenders.entries()) best[i] = Math.max(best[i], (await callsPerSecond(c.once, seconds / k, c.parallel)) * rowsPerCall);
  }
  return best;
}

/**
 * Process CPU time per row of a single-threaded contender (µs), the least of `k` rounds: unlike wall-clock rates it
 * does not count time the OS gave to other processes, so it stays comparable on a busy shared machine.
 */
async function cpuMicrosPerRow(once: () => Promise<unknown>, rowsPerCall: number, seconds: number, k: number): Promise<number> {
  await once();
  let best = Infinity;
  for (let round = 0; round < k; round++) {
    const end = performance.now() + (seconds * 1000) / k;
    const start = process.cpuUsage();
    let calls = 0;
    while (calls === 0 || performance.now() < end) {
      await once();
      calls++;
    }
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / (calls * rowsPerCall));
  }
  return best;
}

async function latencies(once: () => Promise<unknown>, n: number): Promise<{ p50: number; p99: number; max: number }> {
  for (let i = 0; i < 200; i++) await once();
  const ts = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await once();
    ts[i] = performance.now() - t;
  }
  ts.sort();
  return { p50: ts[Math.floor(n * 0.5)], p99: ts[Math.floor(n * 0.99)], max: ts[n - 1] };
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toPrecision(3)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const ms = (x: number) => `${x < 1 ? (x * 1000).toFixed(0) + ' µs' : x.toFixed(2) + ' ms'}`;

function table(header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  for (const [i, r] of cells.entries()) {
    console.log(r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

async function bareSession(bytes: Uint8Array, threads?: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {});
}

function bareRun(s: ort.InferenceSession, X: Float32Array, n: number, nF: number) {
  const feeds = { features: new ort.Tensor('float32', X.subarray(0, n * nF), [n, nF]) };
  return () => s.run(feeds);
}

/**
 * The anchors' KC setup when the data is present: 500 depth-6 trees trained by core/learner with XGBoost-equivalent
 * settings on folds 1-4; the rows to score are all KC rows, repeated up to 65536.
 */
async function kcModel(nTrees: number, depth: number): Promise<{ model: TreeEnsemble; X: Float32Array; trainRows: number; seconds: number } | null> {
  if (!existsSync(KC_DATA_PATH) || !existsSync(KC_FOLDS_PATH)) return null;
  const table = loadKcAnchorTable();
  const { data } = kcFoldRows(table, (fold) => fold !== 0);
  const t0 = performance.now();
  const { model } = await trainGbdt(data, {
    growPolicy: 'depthwise',
    maxDepth: depth,
    maxLeaves: 0,
    learningRate: 0.05,
    nRounds: nTrees,
    earlyStoppingRounds: 0,
    colsampleByTree: 1,
    subsample: 1,
    seed: 42,
  });
  const seconds = (performance.now() - t0) / 1000;
  const nF = table.nFeatures;
  const X = new Float32Array(65536 * nF);
  for (let r = 0; r < 65536; r++) X.set(table.X.subarray((r % table.nRows) * nF, ((r % table.nRows) + 1) * nF), r * nF);
  return { model, X, trainRows: data.nRows, seconds };
}

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const seconds = flag(args, 'seconds', quick ? 0.3 : 2);
  const nTrees = flag(args, 'trees', 500);
  const depth = flag(args, 'depth', 6);
  const poolSize = flag(args, 'pool', Math.min(2, os.availableParallelism()));
  const nLatency = quick ? 300 : 3000;
  const k = quick ? 1 : 5;
  console.log(
    `load average before start: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; each rate is the best of ${k} interleaved rounds`,
  );

  const kc = args.includes('--synthetic') ? null : await kcModel(nTrees, depth);
  const model = kc?.model ?? syntheticEnsemble({ seed: 42, nTrees, maxDepth: depth, nFeatures: SYNTHETIC_FEATURES, categorical: { 0: 70 }, earlyLeaf: 0.05 });
  const F = model.featureNames.length;
  const nLeaves = model.trees.reduce((s, t) => s + t.feature.filter((f) => f === -1).length, 0);
  const nCatSplits = model.trees.reduce((s, t) => s + t.categories.filter((c) => c).length, 0);
  const nInterior = model.trees.reduce((s, t) => s + t.feature.filter((f) => f !== -1).length, 0);
  console.log(
    `model: ${model.trees.length} trees, depth ≤ ${depth}, ${nLeaves} leaves, ${nCatSplits} of ${nInterior} splits categorical, ${F} features; ` +
      (kc
        ? `trained with core/learner on KC folds 1-4 (${kc.trainRows} rows, ${kc.seconds.toFixed(1)} s); scored rows: KC rows repeated`
        : 'synthetic (seeded)'),
  );
  const X = kc?.X ?? syntheticRows(model, 65536, 7, 0.05);

  const variants: { name: string; operator: TreeOperator; precision: TreePrecision }[] = [
    { name: 'TreeEnsemble-5 membership, float32', operator: 'TreeEnsemble', precision: 'float32' },
    { name: 'TreeEnsemble-5 membership, float64', operator: 'TreeEnsemble', precision: 'float64' },
    { name: 'TreeEnsembleRegressor-3 EQ chains, float32', operator: 'TreeEnsembleRegressor', precision: 'float32' },
  ];
  const bytes = new Map(
    variants.map((v) => [v.name, exportTreeEnsembleToOnnx(model, { targetTransform: 'log', operator: v.operator, precision: v.precision })]),
  );
  const main = bytes.get(variants[0].name)!;
  console.log(`ONNX sizes: ${variants.map((v) => `${v.name} ${(bytes.get(v.name)!.length / 1024).toFixed(0)} KiB`).join('; ')}`);
  console.log(`onnxruntime-node ${ort.env.versions.node}; pool: ${poolSize} workers × 1 intra-op thread; bare: one session, default threads`);

  // 1. Throughput: bare onnxruntime vs our pool (sequential calls, and with 2 × pool size calls in flight).
  const bare = await bareSession(main);
  const bare1 = await bareSession(main, 1);
  const pool = new OnnxInferencePool({ size: poolSize });
  await pool.loadModel('m', main);
  const rowsThroughput: (string | number)[][] = [];
  for (const n of BATCHES) {
    const secs = n === 65536 ? 3 * seconds : seconds;
    const Xn = X.slice(0, n * F);
    const [bareRps, bare1Rps, poolSeq, poolPar] = await interleavedBest(
      [
        { once: bareRun(bare, X, n, F) },
        { once: bareRun(bare1, X, n, F) },
        { once: () => pool.predict('m', Xn, n, F) },
        { once: () => pool.predict('m', Xn, n, F), parallel: 2 * poolSize },
      ],
      n,
      secs,
      k,
    );
    // The baseline is whichever bare setting did better at this batch size, so the ratio cannot flatter the pool.
    const bestBare = Math.max(bareRps, bare1Rps);
    const seq = poolSeq / bestBare;
    const piped = poolPar / bestBare;
    rowsThroughput.push([String(n), fmt(bareRps), fmt(bare1Rps), fmt(poolSeq), fmt(poolPar), seq.toFixed(2) + '×', piped.toFixed(2) + '×']);
    const kase = `batch ${n}`;
    const target = n >= 64 ? { target: `≥ ${TARGET_RATIO}×`, met: seq >= TARGET_RATIO } : {};
    recordFigure({ case: kase, metric: 'bare ORT rows/s (better of default threads, 1 thread)', value: Math.round(bestBare), unit: 'rows/s' });
    recordFigure({ case: kase, metric: 'ratio pool / best bare, sequential (1 call in flight)', value: Number(seq.toFixed(3)), unit: '×', ...target });
    recordFigure({ case: kase, metric: `ratio pool / best bare, pipelined (${2 * poolSize} in flight)`, value: Number(piped.toFixed(3)), unit: '×' });
  }
  console.log('\nrows/s by batch size (TreeEnsemble-5, float32); ratios are pool / the better of the two bare settings');
  table(['batch', 'bare ORT', 'bare ORT 1 thr', 'pool, 1 in flight', `pool, ${2 * poolSize} in flight`, 'ratio seq', 'ratio pipelined'], rowsThroughput);
  await bare1.release();

  // 2. Single-row latency of `value`, warm.
  const one = X.slice(0, F);
  const session = await OnnxSession.create(main);
  const hopPool = new OnnxInferencePool({ size: poolSize, inThreadMaxRows: 0 });
  await hopPool.loadModel('m', main);
  const lat = [
    ['bare ORT session.run', await latencies(bareRun(bare, X, 1, F), nLatency)],
    ['OnnxSession.run (in-thread)', await latencies(() => session.run(one, 1, F), nLatency)],
    ['pool.predict (≤ 4 rows: in-thread)', await latencies(() => pool.predict('m', one, 1, F), nLatency)],
    ['pool.predict, forced worker hop', await latencies(() => hopPool.predict('m', one, 1, F), nLatency)],
  ] as const;
  await hopPool.close();
  console.log(`\nsingle-row latency, warm (${nLatency} calls)`);
  table(
    ['path', 'p50', 'p99', 'max'],
    lat.map(([name, l]) => [name, ms(l.p50), ms(l.p99), ms(l.max)]),
  );
  for (const [name, l] of lat) recordFigure({ case: 'single row, warm', metric: `${name} p99`, value: Number(l.p99.toFixed(3)), unit: 'ms' });
  await session.close();
  await pool.close();
  await bare.release();

  // 3. Operator encodings, bare ORT: 1 thread (what each pool worker runs) and default threads.
  // The anchors' KC model splits on zipcode far more often than this one does, so the encodings are also compared
  // on a zipcode-heavy variant (the 70-level feature weighted to take ~30 % of the splits).
  const heavy = syntheticEnsemble({
    seed: 43,
    nTrees,
    maxDepth: depth,
    nFeatures: SYNTHETIC_FEATURES,
    categorical: { 0: 70 },
    earlyLeaf: 0.05,
    splitWeights: [8, ...new Array<number>(SYNTHETIC_FEATURES - 1).fill(1)],
  });
  const heavyCat = heavy.trees.reduce((s, t) => s + t.categories.filter((c) => c).length, 0);
  const heavyInterior = heavy.trees.reduce((s, t) => s + t.feature.filter((f) => f !== -1).length, 0);
  const opModels = [
    { label: kc ? ' [KC]' : '', model, bytes: (v: (typeof variants)[number]) => bytes.get(v.name)! },
    {
      label: ' [zip-heavy]',
      model: heavy,
      bytes: (v: (typeof variants)[number]) => exportTreeEnsembleToOnnx(heavy, { targetTransform: 'log', operator: v.operator, precision: v.precision }),
    },
  ];
  const opColumns: string[] = [];
  const opRows: string[][] = [];
  const cpuRows: string[][] = [];
  for (const m of opModels) {
    const Xm = m.model === model ? X : syntheticRows(m.model, 65536, 8, 0.05);
    const opRates = variants.map(() => [] as number[]);
    const columns: string[] = [];
    for (const threads of [1, undefined]) {
      const sessions = await Promise.all(variants.map((v) => bareSession(m.bytes(v), threads)));
      // 16384 rather than 65536 keeps this section affordable: throughput is flat from ~1024 rows on.
      for (const n of [1, 1024, 16384]) {
        columns.push(`${threads ? `${threads} thr` : 'default thr'} b=${n}`);
        const rates = await interleavedBest(
          sessions.map((s) => ({ once: bareRun(s, Xm, n, m.model.featureNames.length) })),
          n,
          n === 16384 ? 2 * seconds : seconds,
          k,
        );
        rates.forEach((r, i) => opRates[i].push(r));
      }
      await Promise.all(sessions.map((s) => s.release()));
    }
    opColumns.splice(0, opColumns.length, ...columns);
    variants.forEach((v, i) => opRows.push([v.name + m.label, ...opRates[i].map((r, c) => `${fmt(r)} (${(r / opRates[0][c]).toFixed(2)}×)`)]));

    // CPU time per row, one thread, batch 1024: the noise-robust figure for comparing encodings.
    const cpu: number[] = [];
    for (const v of variants) {
      const s1 = await bareSession(m.bytes(v), 1);
      cpu.push(await cpuMicrosPerRow(bareRun(s1, Xm, 1024, m.model.featureNames.length), 1024, seconds, k));
      await s1.release();
    }
    variants.forEach((v, i) => cpuRows.push([v.name + m.label, `${cpu[i].toFixed(2)} µs`, `${(cpu[0] / cpu[i]).toFixed(2)}×`]));
  }
  console.log(`\nzip-heavy model: ${heavyCat} of ${heavyInterior} splits categorical`);
  console.log('\noperator encodings, bare ORT rows/s (ratio to TreeEnsemble-5 float32)');
  table(['encoding', ...opColumns], opRows);
  console.log('\noperator encodings, CPU time per row (1 intra-op thread, batch 1024, least of the rounds)');
  table(['encoding', 'CPU per row', 'speed vs TreeEnsemble-5 float32'], cpuRows);
}
