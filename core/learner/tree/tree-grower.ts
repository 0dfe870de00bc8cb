import type { SerializedTree } from '../model/tree-model.js';
import { appendNode, emptyTree } from '../model/tree-model.js';
import { MAX_FLOAT32, type FeatureBins } from '../data/feature-binning.js';
import type { NodeBatchRunner } from './node-batch-runner.js';
import type { NodeBatch } from './node-batch.js';
import type { SplitCandidate, SplitConstraints } from './split-finder.js';
import type { PackedGradients } from './histogram.js';

export interface TreeGrowthParams extends SplitConstraints {
  /** 'leafwise': split the leaf with the best gain first, up to maxLeaves (LightGBM, sklearn HGB).
   *  'depthwise': split every splittable leaf level by level (XGBoost's default). */
  growPolicy: 'leafwise' | 'depthwise';
  /** 0 = no limit (then maxDepth must be set). */
  maxLeaves: number;
  /** 0 = no limit (then maxLeaves must be set). */
  maxDepth: number;
  learningRate: number;
}

/** A tree in bin space, for updating training and validation predictions without going back to floats. */
export interface BinnedTree {
  feature: Int32Array;
  /** leftBins[i][bin] = 1 when a row with that bin goes left at internal node i. */
  leftBins: (Uint8Array | null)[];
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
}

export interface GrownTree {
  tree: SerializedTree;
  binned: BinnedTree;
  /** The leaves as row ranges of rowIndex, so the driver updates training predictions without traversal. */
  leaves: { id: number; start: number; end: number; value: number }[];
}

interface GrowingNode {
  id: number;
  start: number;
  end: number;
  /** Rows in the node: end − start once partitioned; before that the split's count (exact for unit hessians). */
  count: number;
  sumGrad: number;
  sumHess: number;
  depth: number;
  slot: number;
  split: SplitCandidate | null;
}

/** Largest number of leaves a tree can reach under these limits (sizes the histogram pool). */
export function maxLeavesOf(p: Pick<TreeGrowthParams, 'maxLeaves' | 'maxDepth'>): number {
  const byDepth = p.maxDepth > 0 ? 2 ** Math.min(p.maxDepth, 30) : Infinity;
  return Math.min(p.maxLeaves > 0 ? p.maxLeaves : Infinity, byDepth);
}

/**
 * Grows one regression tree on the gradients in the builder's buffers, over rows rowIndex[0..nRows) (their gradient
 * pairs at gh[0..2 × nRows), in the same order).
 * Memory discipline: one histogram slot per open leaf; a split builds the smaller child's histogram and gets the
 * larger one by subtraction from the parent's slot, which it inherits.
 */
export class TreeGrower {
  private readonly free: number[] = [];
  private packed: PackedGradients | null = null;

  constructor(
    private readonly builder: NodeBatchRunner,
    private readonly featureBins: readonly FeatureBins[],
    private readonly params: TreeGrowthParams,
  ) {}

  /** `packed`: the gradients are quantised and packed at gh[2k + 1] (see PackedGradients); null = float pairs. */
  grow(nRows: number, active: Int32Array, packed: PackedGradients | null = null): GrownTree {
    const b = this.builder.buffers;
    const p = this.params;
    this.packed = packed;
    this.builder.setActiveFeatures(active);
    this.free.length = 0;
    for (let s = b.nSlots - 1; s >= 0; s--) this.free.push(s);
    const out = new TreeBuilder();
    const leafLimit = maxLeavesOf(p);

    let sumGrad = 0;
    let sumHess = 0;
    if (packed) {
      // The root's sums decoded from the packed total exactly as a histogram bin is, so they agree with its bins.
      let total = 0;
      for (let k = 0; k < nRows; k++) total += b.gh[(k << 1) + 1];
      const q = Math.floor(total / packed.packBase);
      sumGrad = q * packed.scale;
      sumHess = total - q * packed.packBase;
    } else {
      for (let k = 0; k < nRows; k++) {
        sumGrad += b.gh[k << 1];
        sumHess += b.gh[(k << 1) + 1];
      }
    }
    const root: GrowingNode = { id: out.addNode(sumHess), start: 0, end: nRows, count: nRows, sumGrad, sumHess, depth: 0, slot: -1, split: null };
    const leaves: GrowingNode[] = [];
    let open: GrowingNode[] = [];
    if (leafLimit > 1 && this.canSplit(root)) {
      root.slot = this.allocSlot();
      const search = { slot: root.slot, sumGrad, sumHess, count: nRows, part: -1, side: 0 };
      [root.split] = this.builder.runBatch({
        partitions: [],
        builds: [{ start: 0, end: nRows, slot: root.slot, part: -1, side: 0, rows: nRows }],
        subtractions: [],
        searches: [search],
        mode: 'features',
        packed,
      });
      if (root.split) open.push(root);
      else this.retire(root, leaves);
    } else leaves.push(root);
    let nLeaves = 1;

    if (p.growPolicy === 'leafwise') {
      while (open.length > 0) {
        // Best gain first; ties go to the older node so the result never depends on array order quirks.
        let bi = -1;
        for (let i = 0; i < open.length; i++) {
          if (!open[i].split) continue;
          if (bi < 0 || open[i].split!.gain > open[bi].split!.gain) bi = i;
        }
        if (bi < 0 || nLeaves >= leafLimit) break;
        const node = open[bi];
        open.splice(bi, 1);
        nLeaves++;
        const children = this.splitNodes([node], nLeaves < leafLimit, out);
        for (const c of children) (c.split ? open : leaves).push(c);
      }
    } else {
      while (open.length > 0) {
        const splittable = open.filter((n) => n.split).sort((x, y) => y.split!.gain - x.split!.gain || x.id - y.id);
        const room = leafLimit - nLeaves;
        const chosen = splittable.slice(0, Math.max(0, room));
        for (const n of open) if (!chosen.includes(n)) this.retire(n, leaves);
        if (chosen.length === 0) break;
        nLeaves += chosen.length;
        const children = this.splitNodes(chosen, nLeaves < leafLimit, out);
        open = [];
        for (const c of children) (c.split ? open : leaves).push(c);
      }
    }
    for (const n of open) this.retire(n, leaves);

    const leafRanges: GrownTree['leaves'] = [];
    for (const n of leaves) {
      const value = (-n.sumGrad / (n.sumHess + p.lambda)) * p.learningRate;
      out.setLeaf(n.id, value);
      leafRanges.push({ id: n.id, start: n.start, end: n.end, value });
    }
    return { tree: out.serialized(), binned: out.binned(), leaves: leafRanges };
  }

  private canSplit(n: GrowingNode): boolean {
    const p = this.params;
    return (p.maxDepth === 0 || n.depth < p.maxDepth) && n.count >= 2 * Math.max(1, p.minSamplesLeaf) && n.sumHess >= 2 * p.minChildWeight;
  }

  private allocSlot(): number {
    const s = this.free.pop();
    if (s === undefined) throw new Error('histogram pool exhausted (bug: pool sized from maxLeaves)');
    return s;
  }

  private releaseSlot(n: GrowingNode): void {
    if (n.slot >= 0) this.free.push(n.slot);
    n.slot = -1;
  }

  private retire(n: GrowingNode, leaves: GrowingNode[]): void {
    this.releaseSlot(n);
    leaves.push(n);
  }

  /**
   * Applies the chosen splits: one batch partitions the nodes' rows, builds the children's histograms and finds their
   * splits. Which child is built and which derived is decided before the partition, from the split's row counts.
   */
  private splitNodes(nodes: GrowingNode[], childrenMaySplit: boolean, out: TreeBuilder): GrowingNode[] {
    const children: GrowingNode[] = [];
    const batch: NodeBatch = { partitions: [], builds: [], subtractions: [], searches: [], mode: 'features', packed: this.packed };
    const searched: GrowingNode[] = [];
    const scratchSlots: GrowingNode[] = [];
    for (const node of nodes) {
      const s = node.split!;
      const part = batch.partitions.length;
      batch.partitions.push({ start: node.start, end: node.end, feature: s.feature, leftBins: s.leftBins, owner: 0 });
      const left: GrowingNode = {
        id: -1,
        start: -1,
        end: -1,
        count: s.countLeft,
        sumGrad: s.gradLeft,
        sumHess: s.hessLeft,
        depth: node.depth + 1,
        slot: -1,
        split: null,
      };
      const right: GrowingNode = {
        id: -1,
        start: -1,
        end: -1,
        count: s.countRight,
        sumGrad: s.gradRight,
        sumHess: s.hessRight,
        depth: node.depth + 1,
        slot: -1,
        split: null,
      };
      [left.id, right.id] = out.setSplit(node.id, s, this.featureBins[s.feature], left.sumHess, right.sumHess);
      children.push(left, right);
      const small = left.count <= right.count ? left : right;
      const large = small === left ? right : left;
      const smallSplits = childrenMaySplit && this.canSplit(small);
      const largeSplits = childrenMaySplit && this.canSplit(large);
      if (!smallSplits && !largeSplits) {
        this.releaseSlot(node);
        continue;
      }
      // The smaller child is built from its rows; the larger inherits the parent's slot and becomes parent − smaller.
      small.slot = this.allocSlot();
      batch.builds.push({ start: -1, end: -1, slot: small.slot, part, side: small === left ? 0 : 1, rows: small.count });
      if (largeSplits) {
        large.slot = node.slot;
        node.slot = -1;
        batch.subtractions.push({ target: large.slot, small: small.slot, part });
      } else this.releaseSlot(node);
      for (const c of [left, right]) {
        if (c.slot < 0) continue;
        if (c === small && !smallSplits) scratchSlots.push(c);
        else {
          searched.push(c);
          batch.searches.push({ slot: c.slot, sumGrad: c.sumGrad, sumHess: c.sumHess, count: c.count, part, side: c === left ? 0 : 1 });
        }
      }
    }
    const splits = this.builder.runBatch(batch);
    searched.forEach((c, i) => (c.split = splits[i]));
    const mids = this.builder.buffers.mids;
    batch.partitions.forEach((p, i) => {
      const [left, right] = [children[2 * i], children[2 * i + 1]];
      left.start = p.start;
      left.end = right.start = mids[i];
      right.end = p.end;
      left.count = left.end - left.start;
      right.count = right.end - right.start;
    });
    for (const c of scratchSlots) this.releaseSlot(c);
    for (const c of searched) if (!c.split) this.releaseSlot(c);
    return children;
  }
}

/** Accumulates a tree in both the shared serialized format and the bin-space form. */
class TreeBuilder {
  private readonly t: SerializedTree = emptyTree();
  private readonly leftBins: (Uint8Array | null)[] = [];

  addNode(cover: number): number {
    const id = appendNode(this.t, cover);
    this.leftBins.push(null);
    return id;
  }

  setSplit(id: number, s: SplitCandidate, fb: FeatureBins, coverLeft: number, coverRight: number): [number, number] {
    const t = this.t;
    t.feature[id] = s.feature;
    t.defaultLeft[id] = s.defaultLeft ? 1 : 0;
    if (fb.kind === 'numeric') {
      t.threshold[id] = s.binThreshold < fb.thresholds.length ? fb.thresholds[s.binThreshold] : MAX_FLOAT32;
    } else {
      const cats: number[] = [];
      for (let bin = 0; bin < fb.nValueBins; bin++) {
        if (s.leftBins[bin] !== 1) continue;
        const code = fb.binCategory[bin];
        if (code >= 0) cats.push(code);
        else for (let c = 0; c < fb.categoryBin.length; c++) if (fb.categoryBin[c] === bin) cats.push(c); // the pooled "other" bin
      }
      t.categories[id] = cats.sort((a, b) => a - b);
    }
    this.leftBins[id] = s.leftBins;
    const l = this.addNode(coverLeft);
    const r = this.addNode(coverRight);
    t.left[id] = l;
    t.right[id] = r;
    return [l, r];
  }

  setLeaf(id: number, value: number): void {
    this.t.value[id] = value;
  }

  serialized(): SerializedTree {
    return this.t;
  }

  binned(): BinnedTree {
    const t = this.t;
    return {
      feature: Int32Array.from(t.feature),
      leftBins: this.leftBins,
      left: Int32Array.from(t.left),
      right: Int32Array.from(t.right),
      value: Float64Array.from(t.value),
    };
  }
}

/** Adds a bin-space tree's output for every row of a binned matrix into `pred`. */
export function addBinnedTree(tree: BinnedTree, bins: Uint8Array, nRows: number, nFeatures: number, pred: Float64Array): void {
  const { feature, leftBins, left, right, value } = tree;
  for (let r = 0; r < nRows; r++) {
    let i = 0;
    const base = r * nFeatures;
    while (feature[i] !== -1) i = leftBins[i]![bins[base + feature[i]]] === 1 ? left[i] : right[i];
    pred[r] += value[i];
  }
}
