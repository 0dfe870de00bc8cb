import { test, expect } from 'vitest';
import { ThreadPoolBatchRunner } from './thread-pool-batch-runner.js';
import { SingleThreadBatchRunner, type NodeBatchRunner } from '../tree/node-batch-runner.js';
import { allocateBuffers } from '../tree/training-buffers.js';
import { binMatrix, fitFeatureBins, histogramLayout } from '../data/feature-binning.js';
import { friedmanTable } from '../../../test/fixtures/synthetic-regression.js';
import type { NodeBatch } from '../tree/node-batch.js';

test('the worker pool partitions rows and computes the same histograms and splits as one thread, and closes cleanly', async () => {
  const d = friedmanTable(20_000, 41);
  const featureBins = fitFeatureBins(d, { maxBins: 255, seed: 0 });
  const { featureOffset, totalBins } = histogramLayout(featureBins);
  const featureBinCount = Int32Array.from(featureBins, (fb) => fb.nValueBins + 1);
  const shape = { bins: binMatrix(d, featureBins), nRows: d.nRows, nFeatures: d.nFeatures, featureOffset, featureBinCount, totalBins, nSlots: 4 };
  const constraints = { lambda: 1, minSamplesLeaf: 20, minChildWeight: 1e-3, minGain: 0, catSmooth: 10, catL2: 10, minDataPerGroup: 100, maxCatThreshold: 32 };
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
      const sum = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => b.gh[2 * (from + k)]).reduce((a, v) => a + v, 0);
      // Root into slot 0; then partition the root by its best split, build the left child into slot 1 and turn slot 0
      // into the right child by subtraction, and search both — partition, barrier, histograms and searches in one batch.
      const root: NodeBatch = {
        partitions: [],
        builds: [{ start: 0, end: d.nRows, slot: 0, part: -1, side: 0, rows: d.nRows }],
        subtractions: [],
        searches: [{ slot: 0, sumGrad: sum(0, d.nRows), sumHess: d.nRows, count: d.nRows, part: -1, side: 0 }],
        mode: 'features',
      };
      const [rootSplit] = r.runBatch(root);
      const s = rootSplit!;
      const children: NodeBatch = {
        partitions: [{ start: 0, end: d.nRows, feature: s.feature, leftBins: s.leftBins, owner: 0 }],
        builds: [{ start: -1, end: -1, slot: 1, part: 0, side: 0, rows: s.countLeft }],
        subtractions: [{ target: 0, small: 1, part: 0 }],
        searches: [
          { slot: 1, sumGrad: s.gradLeft, sumHess: s.hessLeft, count: s.countLeft, part: 0, side: 0 },
          { slot: 0, sumGrad: s.gradRight, sumHess: s.hessRight, count: s.countRight, part: 0, side: 1 },
        ],
        mode: 'features',
      };
      const childSplits = r.runBatch(children);
      const mid = b.mids[0];
      // The partition really split the rows as the split says, and kept each side in order.
      const column = (row: number) => b.bins[row * d.nFeatures + s.feature];
      for (let k = 0; k < d.nRows; k++) expect(s.leftBins[column(b.rowIndex[k])] === 1).toBe(k < mid);
      for (let k = 1; k < d.nRows; k++) if (k !== mid) expect(b.rowIndex[k]).toBeGreaterThan(b.rowIndex[k - 1]);
      expect(mid).toBe(s.countLeft);
      return { rootSplit, childSplits, mid, rows: Array.from(b.rowIndex), hist: Array.from(b.hist.subarray(0, 2 * b.histStride)) };
    };
    const a = run(single);
    const p = run(pool);
    expect(a.rootSplit).not.toBeNull();
    expect(p.mid).toBe(a.mid);
    expect(p.rows).toEqual(a.rows);
    expect(p.hist).toEqual(a.hist);
    expect(JSON.stringify(p.rootSplit)).toBe(JSON.stringify(a.rootSplit));
    expect(JSON.stringify(p.childSplits)).toBe(JSON.stringify(a.childSplits));
  } finally {
    await pool.close();
    await single.close();
  }
});
