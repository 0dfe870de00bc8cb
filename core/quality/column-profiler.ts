import type { NormalizedValue } from '../schema/column-parser.js';
import type { SchemaColumn } from '../schema/row-validator.js';
import type { ColumnQuality } from './quality-schemas.js';
import { describeTail, splitVocabulary } from '../schema/category-vocabulary.js';

/**
 * Streaming per-column statistics, gathered while rows are ingested so no second pass and no whole column in
 * memory is needed. Quantiles come from a seeded reservoir sample (exact up to RESERVOIR rows, approximate
 * beyond, and flagged so); distinct values are counted exactly up to DISTINCT_CAP.
 */
export const RESERVOIR = 20_000;
export const DISTINCT_CAP = 10_000;

export type { ColumnQuality };

const QUANTILE_PS = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];

/**
 * Numeric columns keep exact count/missing/min/max/mean/std and a seeded reservoir for quantiles; the rest
 * keep value counts. Two monomorphic classes because `add` runs once per cell on the ingest hot path.
 */
export interface ColumnProfiler {
  add(v: NormalizedValue): void;
  /** `add` for each of `values[0..n)`, NaN meaning missing: a numeric batch column in one monomorphic loop. */
  addNumbers(values: Float64Array, n: number): void;
  /** `add(v)` `times` times over (the ingest counts a text column's dictionary codes first, then adds each once). */
  addRepeated(v: NormalizedValue, times: number): void;
  result(): ColumnQuality;
}

export function createProfiler(column: SchemaColumn, seed = 1): ColumnProfiler {
  return ['numeric', 'integer', 'latitude', 'longitude'].includes(column.config.type) ? new NumericProfiler(column, seed) : new ValueProfiler(column);
}

class NumericProfiler implements ColumnProfiler {
  private count = 0;
  private missing = 0;
  private min = Infinity;
  private max = -Infinity;
  private sum = 0;
  private sumSq = 0;
  private readonly sample = new Float64Array(RESERVOIR);
  private inSample = 0;
  /** Algorithm L (Li 1994): reservoir sampling that draws random numbers only when it replaces an item. */
  private nextPick = 0;
  private w = 1;
  private rng: number;
  private readonly distinct = new Float64HashSet(DISTINCT_CAP);
  private capped = false;

  constructor(
    private readonly column: SchemaColumn,
    seed: number,
  ) {
    this.rng = (seed * 2654435761) >>> 0 || 1;
  }

  private random(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return (this.rng + 0.5) / 4294967296;
  }

  add(v: NormalizedValue): void {
    if (v === null) {
      this.count++;
      this.missing++;
    } else this.addPresent(v as number);
  }

  /** `add` of a present value. Takes only numbers, so V8 keeps `x` unboxed (no heap number per call). */
  private addPresent(x: number): void {
    const i = this.count++;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    this.sum += x;
    this.sumSq += x * x;
    const seen = i - this.missing; // index among present values
    if (this.inSample < RESERVOIR) {
      this.sample[this.inSample++] = x;
      if (this.inSample === RESERVOIR) this.advance(seen);
    } else if (seen === this.nextPick) {
      this.sample[Math.floor(this.random() * RESERVOIR)] = x;
      this.advance(seen);
    }
    if (!this.capped) {
      // Past the cap the exact distinct count is unknown anyway; stop paying for lookups.
      this.distinct.add(x);
      if (this.distinct.size >= DISTINCT_CAP) this.capped = true;
    }
  }

  addNumbers(values: Float64Array, n: number): void {
    for (let r = 0; r < n; r++) {
      const x = values[r];
      if (x === x) this.addPresent(x);
      else {
        this.count++;
        this.missing++;
      }
    }
  }

  addRepeated(v: NormalizedValue, times: number): void {
    for (let i = 0; i < times; i++) this.add(v);
  }

  private advance(seen: number): void {
    this.w *= Math.exp(Math.log(this.random()) / RESERVOIR);
    this.nextPick = seen + Math.floor(Math.log(this.random()) / Math.log(1 - this.w)) + 1;
  }

  result(): ColumnQuality {
    const n = this.count - this.missing;
    const mean = n > 0 ? this.sum / n : null;
    const variance = n > 1 && mean !== null ? Math.max(0, (this.sumSq - n * mean * mean) / (n - 1)) : null;
    const sorted = this.sample.slice(0, this.inSample).sort();
    return {
      name: this.column.name,
      type: this.column.config.type,
      count: this.count,
      missing: this.missing,
      missingShare: this.count > 0 ? this.missing / this.count : 0,
      min: n > 0 ? this.min : null,
      max: n > 0 ? this.max : null,
      mean,
      std: variance === null ? null : Math.sqrt(variance),
      quantiles: n > 0 ? QUANTILE_PS.map((p) => ({ p, value: quantileSorted(sorted, p) })) : null,
      quantilesExact: n <= RESERVOIR,
      distinct: this.distinct.size,
      distinctCapped: this.capped,
      topValues: [],
    };
  }
}

class ValueProfiler implements ColumnProfiler {
  private count = 0;
  private missing = 0;
  private readonly counts = new Map<string | number, number>();
  private capped = false;
  private readonly isIdentifier: boolean;

  constructor(private readonly column: SchemaColumn) {
    this.isIdentifier = column.config.type === 'identifier';
  }

  add(v: NormalizedValue): void {
    this.count++;
    if (v === null) {
      this.missing++;
      return;
    }
    // Identifiers are mostly unique: once past the cap, counting them tells nothing more.
    if (this.capped && this.isIdentifier) return;
    const c = this.counts.get(v);
    if (c !== undefined) this.counts.set(v, c + 1);
    else if (this.counts.size < DISTINCT_CAP) this.counts.set(v, 1);
    else this.capped = true;
  }

  addNumbers(values: Float64Array, n: number): void {
    for (let r = 0; r < n; r++) {
      const x = values[r];
      this.add(x === x ? x : null);
    }
  }

  addRepeated(v: NormalizedValue, times: number): void {
    if (times <= 0) return;
    this.count += times;
    if (v === null) {
      this.missing += times;
      return;
    }
    if (this.capped && this.isIdentifier) return;
    const c = this.counts.get(v);
    if (c !== undefined) this.counts.set(v, c + times);
    else if (this.counts.size < DISTINCT_CAP) this.counts.set(v, times);
    else this.capped = true;
  }

  result(): ColumnQuality {
    const present = this.count - this.missing;
    const cfg = this.column.config;
    const keys = [...this.counts.keys()];
    let min: string | number | null = null;
    let max: string | number | null = null;
    if (cfg.type === 'ordinal') {
      // Levels order ordinal values; text comparison would put "10" before "9".
      const present = cfg.levels.map(String).filter((l) => this.counts.has(l));
      min = present[0] ?? null;
      max = present[present.length - 1] ?? null;
    } else if (keys.length > 0 && !this.capped) {
      for (const k of keys) {
        if (min === null || k < min) min = k;
        if (max === null || k > max) max = k;
      }
    }
    const numericCoded = cfg.type === 'boolean';
    let mean: number | null = null;
    if (numericCoded && present > 0) {
      let s = 0;
      for (const [k, c] of this.counts) s += (k as number) * c;
      mean = s / present;
    }
    const top =
      cfg.type === 'identifier'
        ? []
        : [...this.counts.entries()]
            .sort((a, b) => b[1] - a[1] || (String(a[0]) < String(b[0]) ? -1 : 1))
            .slice(0, 10)
            .map(([value, count]) => ({ value: String(value), count, share: present > 0 ? count / present : 0 }));
    return {
      name: this.column.name,
      type: cfg.type,
      count: this.count,
      missing: this.missing,
      missingShare: this.count > 0 ? this.missing / this.count : 0,
      min,
      max,
      mean,
      std: null,
      quantiles: null,
      quantilesExact: true,
      distinct: this.counts.size,
      distinctCapped: this.capped,
      topValues: top,
      // The same rule training applies to these counts (fitFeatureTransform), so the report says it beforehand.
      ...(cfg.type === 'categorical'
        ? {
            categoryTail: describeTail(
              this.column.name,
              splitVocabulary([...this.counts].map(([value, count]) => ({ value: String(value), count }))),
              this.capped,
            ),
          }
        : {}),
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

/**
 * A set of doubles with open addressing over a Float64Array: no boxing and no allocation per value, unlike
 * `Set<number>` (measured as a top ingest cost). Holds up to `cap` values; NaN is never added.
 */
class Float64HashSet {
  private readonly keys: Float64Array;
  private readonly used: Uint8Array;
  private readonly mask: number;
  private readonly bits = new Float64Array(1);
  private readonly words = new Int32Array(this.bits.buffer);
  size = 0;

  constructor(cap: number) {
    let n = 16;
    while (n < cap * 2) n <<= 1;
    this.keys = new Float64Array(n);
    this.used = new Uint8Array(n);
    this.mask = n - 1;
  }

  add(x: number): void {
    this.bits[0] = x === 0 ? 0 : x; // -0 and 0 are one value
    let h = Math.imul(this.words[0] ^ Math.imul(this.words[1], 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    let i = h & this.mask;
    while (this.used[i] === 1) {
      if (this.keys[i] === x) return;
      i = (i + 1) & this.mask;
    }
    if (this.size * 2 >= this.keys.length) return; // full: the caller caps before this
    this.used[i] = 1;
    this.keys[i] = x;
    this.size++;
  }
}
