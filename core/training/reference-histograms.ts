import type { ModelManifest } from '../models/model-schemas.js';

/**
 * Per-feature histograms of the training data, stored in the manifest as the reference that drift monitoring
 * compares new data against. Numeric features: 10 bins at training deciles; categorical: one bin per code.
 */
export function referenceHistograms(
  X: Float32Array,
  nRows: number,
  names: string[],
  kinds: ('numeric' | 'categorical')[],
  categoryCounts: number[],
): ModelManifest['reference'] {
  const nF = names.length;
  const out: ModelManifest['reference'] = [];
  for (let f = 0; f < nF; f++) {
    const vals: number[] = [];
    let missing = 0;
    for (let i = 0; i < nRows; i++) {
      const v = X[i * nF + f];
      if (Number.isNaN(v)) missing++;
      else vals.push(v);
    }
    if (kinds[f] === 'categorical') {
      const counts = new Array<number>(categoryCounts[f]).fill(0);
      for (const v of vals) counts[v]++;
      out.push({ feature: names[f], edges: counts.map((_, i) => i), counts, missing });
      continue;
    }
    vals.sort((a, b) => a - b);
    const edges = [...new Set(Array.from({ length: 9 }, (_, j) => vals[Math.floor(((j + 1) * vals.length) / 10)]).filter((e) => e !== undefined))];
    const counts = new Array<number>(edges.length + 1).fill(0);
    for (const v of vals) {
      let b = 0;
      while (b < edges.length && v > edges[b]) b++;
      counts[b]++;
    }
    out.push({ feature: names[f], edges, counts, missing });
  }
  return out;
}
