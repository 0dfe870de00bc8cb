import type { NormalizedValue } from '../schema/column-parser.js';
import type { SchemaColumn } from '../schema/row-validator.js';

/**
 * Streaming per-column statistics, gathered while rows are ingested so no second pass and no whole column in
 * memory is needed. Quantiles come from a seeded reservoir sample (exact up to RESERVOIR rows, approximate
 * beyond, and flagged so); distinct values are counted exactly up to DISTINCT_CAP.
 */
export const RESERVOIR = 20_000;
export const DISTINCT_CAP = 10_000;

export interface ColumnQuality {
  name: string;
  type: string;
  count: number;
  missing: number;
  missingShare: number;
  min: number | string | null;
  max: number | string | null;
  mean: number | null;
  std: number | null;
  quantiles: { p: number; value: number }[] | null;
  quantilesExact: boolean;
  /** Exact when `distinctCapped` is false; a lower bound otherwise. */
  distinct: number;
  distinctCapped: boolean;
  topValues: { value: string; count: number; share: number }[];
}

const QUANTILE_PS = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];

export class ColumnProfiler {
  private count = 0;
  private missing = 0;
  private min: number | string | null = null;
  private max: number | string | null = null;
  private sum = 0;
  private sumSq = 0;
  private numeric = 0;
  private readonly sample: number[] = [];
  private seen = 0;
  private rng: number;
  private readonly counts = new Map<string | number, number>();
  private capped = false;

  constructor(private readonly column: SchemaColumn, seed = 1) {
    this.rng = (seed * 2654435761) >>> 0 || 1;
  }

  add(v: NormalizedValue): void {
    this.count++;
    if (v === null) {
      this.missing++;
      return;
    }
    if (this.min === null || v < this.min) this.min = v;
    if (this.max === null || v > this.max) this.max = v;
    if (typeof v === 'number') {
      this.numeric++;
      this.sum += v;
      this.sumSq += v * v;
      this.seen++;
      if (this.sample.length < RESERVOIR) this.sample.push(v);
      else {
        const j = this.nextInt(this.seen);
        if (j < RESERVOIR) this.sample[j] = v;
      }
    }
    const c = this.counts.get(v);
    if (c !== undefined) this.counts.set(v, c + 1);
    else if (this.counts.size < DISTINCT_CAP) this.counts.set(v, 1);
    else this.capped = true;
  }

  /** xorshift32: deterministic reservoir for a given seed, so quality reports are reproducible. */
  private nextInt(n: number): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng % n;
  }

  result(): ColumnQuality {
    const present = this.count - this.missing;
    const mean = this.numeric > 0 ? this.sum / this.numeric : null;
    const variance = this.numeric > 1 && mean !== null ? Math.max(0, (this.sumSq - this.numeric * mean * mean) / (this.numeric - 1)) : null;
    const sorted = this.sample.length > 0 ? Float64Array.from(this.sample).sort() : null;
    const categoricalLike = ['categorical', 'ordinal', 'boolean'].includes(this.column.config.type);
    let { min, max } = this;
    const cfg = this.column.config;
    if (cfg.type === 'ordinal') {
      // Levels order ordinal values; text comparison would put "10" before "9".
      const present = cfg.levels.map(String).filter((l) => this.counts.has(l));
      min = present[0] ?? null;
      max = present[present.length - 1] ?? null;
    }
    const top = categoricalLike
      ? [...this.counts.entries()]
          .sort((a, b) => b[1] - a[1] || (String(a[0]) < String(b[0]) ? -1 : 1))
          .slice(0, 10)
          .map(([value, count]) => ({ value: String(value), count, share: present > 0 ? count / present : 0 }))
      : [];
    return {
      name: this.column.name,
      type: this.column.config.type,
      count: this.count,
      missing: this.missing,
      missingShare: this.count > 0 ? this.missing / this.count : 0,
      min,
      max,
      mean,
      std: variance === null ? null : Math.sqrt(variance),
      quantiles: sorted ? QUANTILE_PS.map((p) => ({ p, value: quantileSorted(sorted, p) })) : null,
      quantilesExact: this.seen <= RESERVOIR,
      distinct: this.counts.size,
      distinctCapped: this.capped,
      topValues: top,
    };
  }
}

/** Linear-interpolation quantile (type 7, as numpy and R default) of an ascending array. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}
