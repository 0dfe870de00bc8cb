import { createHash } from 'node:crypto';
import type { DatasetConfig } from '../config/dataset-config.schema.js';
import { canonicalJson } from '../config/load-config.js';
import type { NormalizedValue } from '../schema/column-parser.js';
import { daysBetween, fractionalYear } from '../schema/date-format.js';
import {
  FEATURE_TRANSFORM_VERSION,
  FEATURE_TRANSFORM_VERSION_RARE,
  type FeatureDef,
  type FeatureOp,
  type FeatureTransform,
} from './feature-transform-schema.js';
import { describeTail, splitVocabulary, type CategoryTail, type RareLevels } from '../schema/category-vocabulary.js';

/**
 * The one definition that turns a dataset row — or a property typed in by a person — into the model's feature
 * vector. Training and inference both call `compileFeatureTransform`, so they cannot disagree; the fitted
 * definition (with category vocabularies learned from the training data) is stored in the model manifest and
 * identified by its hash.
 *
 * Missing values become NaN: the trees learn where missing goes. A category not seen in training also becomes
 * NaN, and the valuation reports it as a warning rather than guessing. A category seen too rarely to learn on its
 * own shares the "other (rare)" code with the others like it (category-vocabulary.ts): known, but pooled.
 */
export { FEATURE_TRANSFORM_VERSION };
export type { FeatureDef, FeatureOp, FeatureTransform };
export { MAX_CATEGORIES } from '../schema/category-vocabulary.js';

/** The feature list the config asks for, before vocabularies are fitted. */
export function planFeatures(config: DatasetConfig): FeatureDef[] {
  const cols = config.dataset.columns;
  const f = config.features;
  const included = f.include ?? Object.keys(cols).filter((n) => cols[n].type !== 'identifier' && n !== config.target.column);
  const defs: FeatureDef[] = [];
  for (const name of included) {
    if (f.exclude.includes(name) || name === config.target.column) continue;
    const col = cols[name];
    switch (col.type) {
      case 'identifier':
        continue;
      case 'categorical':
        defs.push({ name, kind: 'categorical', spec: { op: 'category', column: name } });
        break;
      case 'ordinal':
        defs.push({ name, kind: 'numeric', spec: { op: 'ordinal', column: name, levels: col.levels.map(String) } });
        break;
      case 'date':
        defs.push({ name, kind: 'numeric', spec: { op: 'days', column: name, origin: f.dateOrigin } });
        break;
      default:
        defs.push({ name, kind: 'numeric', spec: { op: 'number', column: name } });
    }
  }
  for (const d of f.derived) {
    const { kind: op, name, ...rest } = d;
    defs.push({ name, kind: 'numeric', spec: { op, ...rest } as FeatureOp });
  }
  return defs;
}

export interface FitTransformOptions {
  /**
   * Pool rare levels in a shared code (default true). Off for the template of an imported model, whose codes
   * must be exactly the listed levels: there the tail stays unknown, as before.
   */
  poolRareCategories?: boolean;
}

/** Fixes the feature definition, with vocabularies (most frequent first) taken from the training data. */
export function fitFeatureTransform(
  config: DatasetConfig,
  categoryFrequencies: Record<string, { value: string; count: number }[]>,
  options: FitTransformOptions = {},
): FeatureTransform {
  const features = planFeatures(config);
  const vocabularies: Record<string, string[]> = {};
  const rare: Record<string, RareLevels> = {};
  for (const f of features) {
    if (f.spec.op !== 'category') continue;
    const split = splitVocabulary(categoryFrequencies[f.spec.column] ?? [], options.poolRareCategories ?? true);
    vocabularies[f.name] = split.kept;
    if (split.rare) rare[f.name] = split.rare;
  }
  const pooled = Object.keys(rare).length > 0;
  // Without pooled levels the definition is written exactly as version 1 wrote it (same fields, same hash).
  const body = {
    version: pooled ? FEATURE_TRANSFORM_VERSION_RARE : FEATURE_TRANSFORM_VERSION,
    columns: Object.entries(config.dataset.columns).map(([name, c]) => ({ name, type: c.type })),
    target: { column: config.target.column, transform: config.target.transform },
    saleDate: config.features.saleDate ?? null,
    features,
    vocabularies,
    ...(pooled ? { rare } : {}),
  } as const;
  return { ...body, hash: createHash('sha256').update(canonicalJson(body)).digest('hex') };
}

/** What the definition did with each categorical feature's levels (kept, pooled as rare, the rule). */
export function categoryTails(t: FeatureTransform): CategoryTail[] {
  return t.features
    .filter((f) => f.spec.op === 'category')
    .map((f) => describeTail(f.spec.op === 'category' ? f.spec.column : f.name, { kept: t.vocabularies[f.name] ?? [], rare: t.rare?.[f.name] ?? null }));
}

export interface CompiledTransform {
  nFeatures: number;
  names: string[];
  kinds: FeatureDef['kind'][];
  categoryCounts: number[];
  /** Writes the features of one row (values indexed like `transform.columns`) into `out` at `offset`. */
  writeRow(values: ArrayLike<NormalizedValue>, out: Float32Array, offset: number): void;
  /** Features of one property given by column name; notes unseen categories and missing values. */
  fromRecord(record: Record<string, NormalizedValue>): { vector: Float32Array; warnings: string[] };
  target(y: number): number;
  inverseTarget(t: number): number;
}

export function compileFeatureTransform(t: FeatureTransform): CompiledTransform {
  const colIndex = new Map(t.columns.map((c, i) => [c.name, i]));
  const idx = (name: string): number => {
    const i = colIndex.get(name);
    if (i === undefined) throw new Error(`feature transform refers to unknown column ${name}`);
    return i;
  };
  const num = (v: NormalizedValue): number => (typeof v === 'number' ? v : NaN);
  const fns: ((row: ArrayLike<NormalizedValue>) => number)[] = t.features.map((f) => {
    const s = f.spec;
    switch (s.op) {
      case 'number': {
        const i = idx(s.column);
        return (row) => num(row[i]);
      }
      case 'ordinal': {
        const i = idx(s.column);
        const levels = new Map(s.levels.map((l, k) => [l, k]));
        return (row) => levels.get(row[i] as string) ?? NaN;
      }
      case 'category': {
        const i = idx(s.column);
        const vocabulary = t.vocabularies[f.name] ?? [];
        const codes = new Map(vocabulary.map((v, k) => [v, k]));
        // The rare levels share the code after the kept ones; anything else is unknown.
        for (const v of t.rare?.[f.name]?.levels ?? []) codes.set(v, vocabulary.length);
        return (row) => codes.get(row[i] as string) ?? NaN;
      }
      case 'days': {
        const i = idx(s.column);
        return (row) => (typeof row[i] === 'string' ? daysBetween(s.origin, row[i] as string) : NaN);
      }
      case 'years_between': {
        const y = idx(s.fromYear);
        const d = idx(s.toDate);
        return (row) => (typeof row[y] === 'number' && typeof row[d] === 'string' ? fractionalYear(row[d] as string) - (row[y] as number) : NaN);
      }
      case 'years_since': {
        const e = idx(s.eventYear);
        const fb = s.fallbackYear ? idx(s.fallbackYear) : -1;
        const d = idx(s.atDate);
        return (row) => {
          if (typeof row[d] !== 'string') return NaN;
          const ev = row[e];
          const year = typeof ev === 'number' && ev > 0 ? ev : fb >= 0 && typeof row[fb] === 'number' ? (row[fb] as number) : NaN;
          return fractionalYear(row[d] as string) - year;
        };
      }
      case 'month_index': {
        const d = idx(s.date);
        const oy = +s.origin.slice(0, 4);
        const om = +s.origin.slice(5, 7);
        return (row) => {
          const v = row[d];
          return typeof v === 'string' ? (+v.slice(0, 4) - oy) * 12 + (+v.slice(5, 7) - om) : NaN;
        };
      }
      case 'ratio': {
        const a = idx(s.numerator);
        const b = idx(s.denominator);
        return (row) => {
          const den = num(row[b]);
          return den === 0 ? NaN : num(row[a]) / den;
        };
      }
    }
  });
  const n = fns.length;
  const tr = t.target.transform;
  return {
    nFeatures: n,
    names: t.features.map((f) => f.name),
    kinds: t.features.map((f) => f.kind),
    categoryCounts: t.features.map((f) => (f.kind === 'categorical' ? (t.vocabularies[f.name]?.length ?? 0) + (t.rare?.[f.name] ? 1 : 0) : 0)),
    writeRow(values, out, offset) {
      for (let k = 0; k < n; k++) out[offset + k] = fns[k](values);
    },
    fromRecord(record) {
      const values = t.columns.map((c) => record[c.name] ?? null);
      const vector = new Float32Array(n);
      this.writeRow(values, vector, 0);
      const warnings: string[] = [];
      t.features.forEach((f, k) => {
        const pooled = t.rare?.[f.name];
        if (pooled && f.spec.op === 'category' && vector[k] === (t.vocabularies[f.name]?.length ?? 0)) {
          warnings.push(
            `${f.spec.column} "${String(values[idx(f.spec.column)])}" is rare in training; the model values it together with the other rare ${f.spec.column} values`,
          );
          return;
        }
        if (!Number.isNaN(vector[k])) return;
        if (f.spec.op === 'category' && values[idx(f.spec.column)] !== null) {
          warnings.push(`${f.spec.column} "${String(values[idx(f.spec.column)])}" was not seen in training; the model treats it as unknown`);
        } else warnings.push(`${f.name} is missing; the model uses what it learned for missing values`);
      });
      return { vector, warnings };
    },
    target: tr === 'log' ? Math.log : tr === 'log1p' ? Math.log1p : (y) => y,
    inverseTarget: tr === 'log' ? Math.exp : tr === 'log1p' ? Math.expm1 : (v) => v,
  };
}
