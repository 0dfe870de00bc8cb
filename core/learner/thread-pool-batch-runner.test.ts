import { test, expect } from 'vitest';
import { ThreadPoolBatchRunner } from './thread-pool-batch-runner.js';
import { allocateBuffers, SingleThreadBatchRunner, type NodeBatchRunner } from './node-batch-runner.js';
import { binMatrix, fitFeatureBins, histogramLayout } from './feature-binning.js';
import { friedmanTable } from './synthetic-regression.js';
import type { NodeBatch } from './node-batch.js';

test('the worker pool computes the same histograms and splits as one thread, and closes cleanly', async () => {
  const d = friedmanTable(20_000, 41);
  const featureBins = fitFeatureBins(d, { maxBins: 255, seed: 0 });
  const { featureOffset, totalBins } = histogramLayout(featureBins);
  const featureBinCount = Int32Array.from(featureBins, (fb) => fb.nValueBins + 1);
  const shape = { bins: binMatrix(d, featureBins), nRows: d.nRows, nFeatures: d.nFeatures, featureOffset, featureBinCount, totalBins, nSlots: 4 };
  const constraints = { lambda: 1, minSamplesLeaf: 20, minChildWeight: 1e-3, minGain: 0, catSmooth: 10 };
  const single = new SingleThreadBatchRunner(allocateBuffers(shape, false), featureBins, constraints);
  const pool = await ThreadPoolBatchRunner.start(shape, 3, featureBins, constraints, 0);
  try {
    const mean = d.y.reduce((a, b) => a + b) / d.nRows;
    const run = (r: NodeBatchRunner) => {
      const b = r.buffers;
      for (let i = 0; i < d.nRows; i++) {
        b.gh[2 * i] = mean - d.y[i];
        b.gh[2 * i + 1] = 1;
        b.rowIndex[i] = i;
      }
      r.setActiveFeatures(Int32Array.from([0, 1, 2, 3, 4, 5, 6]));
      const half = d.nRows >> 1;
      const sum = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => b.gh[2 * (from + k)]).reduce((a, v) => a + v, 0);
      // Root into slot 0, then: slot 1 = rows [0, half), slot 0 becomes the sibling by subtraction; search both.
      const root: NodeBatch = { builds: [{ start: 0, end: d.nRows, slot: 0 }], subtractions: [], searches: [{ slot: 0, sumGrad: sum(0, d.nRows), sumHess: d.nRows, count: d.nRows }] };
      const [rootSplit] = r.runBatch(root);
      const children: NodeBatch = {
        builds: [{ start: 0, end: half, slot: 1 }],
        subtractions: [{ target: 0, small: 1 }],
        searches: [
          { slot: 1, sumGrad: sum(0, half), sumHess: half, count: half },
          { slot: 0, sumGrad: sum(half, d.nRows), sumHess: d.nRows - half, count: d.nRows - half },
        ],
      };
      const childSplits = r.runBatch(children);
      return { rootSplit, childSplits, hist: Array.from(b.hist.subarray(0, 2 * b.histStride)) };
    };
    const a = run(single);
    const p = run(pool);
    expect(a.rootSplit).not.toBeNull();
    expect(p.hist).toEqual(a.hist);
    expect(JSON.stringify(p.rootSplit)).toBe(JSON.stringify(a.rootSplit));
    expect(JSON.stringify(p.childSplits)).toBe(JSON.stringify(a.childSplits));
  } finally {
    await pool.close();
    await single.close();
  }
});
