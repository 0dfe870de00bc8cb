/**
 * Splitting a node's rows between its children. Each node owns a contiguous range of the row index; a split reorders
 * that range so the left child's rows come first, keeping their order (so later passes read memory front to back).
 */

/** A node to split: rows rowIndex[start..end) go left when leftBins[bin of `feature`] is 1. */
export interface PartitionTask {
  start: number;
  end: number;
  feature: number;
  leftBins: Uint8Array;
  /** The thread that partitions this node (set by the batch runner; any choice gives the same result). */
  owner: number;
}

/**
 * Stable in-place partition of rowIndex[start..end), moving the node-ordered gradient pairs gh[2k..2k+1] along.
 * The scratch arrays are as long as rowIndex / gh and only [start, end) of them is used, so nodes can be partitioned
 * by different threads at once. Returns the boundary (first right row).
 */
export function partitionRows(
  binsByFeature: Uint8Array,
  nRows: number,
  rowIndex: Int32Array,
  scratch: Int32Array,
  gh: Float64Array,
  ghScratch: Float64Array,
  start: number,
  end: number,
  feature: number,
  leftBins: Uint8Array,
): number {
  // One feature-major column: a node's rows stay in increasing order, so this reads it front to back.
  const column = binsByFeature.subarray(feature * nRows, (feature + 1) * nRows);
  let l = start;
  let nr = start;
  // Branch-free: each row is written to both places and only the right cursor advances. The side is a coin flip
  // near the root, so a branch here mispredicted about every other row.
  // The gradient pairs (in node order) move with their rows.
  for (let k = start; k < end; k++) {
    const r = rowIndex[k];
    const g = gh[k << 1];
    const h = gh[(k << 1) + 1];
    const left = leftBins[column[r]];
    rowIndex[l] = r;
    gh[l << 1] = g;
    gh[(l << 1) + 1] = h;
    scratch[nr] = r;
    ghScratch[nr << 1] = g;
    ghScratch[(nr << 1) + 1] = h;
    l += left;
    nr += 1 - left;
  }
  rowIndex.set(scratch.subarray(start, nr), l);
  gh.set(ghScratch.subarray(start << 1, nr << 1), l << 1);
  return l;
}

/**
 * Gives each partition task to a thread, heaviest first to the least-loaded thread (ties to the lowest index), so the
 * threads finish at about the same time. `weights[i]` is task i's cost (default: its rows). Deterministic; the
 * result does not depend on it.
 */
export function assignPartitionOwners(tasks: PartitionTask[], threads: number, weights?: Float64Array): void {
  if (threads === 1 || tasks.length <= 1) {
    for (const t of tasks) t.owner = 0;
    return;
  }
  const w = weights ?? Float64Array.from(tasks, (t) => t.end - t.start);
  const order = tasks.map((_, i) => i).sort((a, b) => w[b] - w[a] || a - b);
  const load = new Float64Array(threads);
  for (const i of order) {
    let best = 0;
    for (let t = 1; t < threads; t++) if (load[t] < load[best]) best = t;
    tasks[i].owner = best;
    load[best] += w[i];
  }
}
