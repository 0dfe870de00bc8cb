import type { DatasetConfig } from '../config/dataset-config.schema.js';
import type { DatasetStore, DatasetVersion } from '../datasets/dataset-store.js';
import type { NormalizedValue } from '../schema/column-parser.js';
import type { TypicalSale } from './valuation-schemas.js';

const NUMERIC = new Set(['numeric', 'integer', 'latitude', 'longitude', 'ordinal']);
/** Candidates nearest the per-field centre, and the sample every candidate's total distance is measured on. */
const CANDIDATES = 200;
const SAMPLE = 3000;

/**
 * The form's fields: every input column except the target, identifiers and the sale date (the valuation date).
 */
export function formColumns(config: DatasetConfig): string[] {
  const saleDate = config.features.saleDate ?? null;
  return Object.entries(config.dataset.columns)
    .filter(([name, col]) => name !== config.target.column && name !== saleDate && col.type !== 'identifier' && col.type !== 'date')
    .map(([name]) => name);
}

/**
 * The medoid sale: the one real sale whose total distance to the others, on the form's fields, is smallest —
 * so "typical values" are a house that exists (its ZIP code and coordinates agree, its renovation follows its
 * construction), never a per-field mix of medians. Numbers count in units of their spread (interquartile range),
 * categories 1 when they differ. An exact medoid is quadratic in the sales, so it is searched among the sales
 * nearest the per-field centre (median, most frequent value), measured against an even sample of all sales.
 * Rows with a missing field are not candidates. Null without a usable row.
 */
export function typicalSale(store: DatasetStore, ds: DatasetVersion): TypicalSale | null {
  const config = ds.config;
  const fields = formColumns(config);
  const cols = config.dataset.columns;
  const idCol = Object.keys(cols).find((c) => cols[c].type === 'identifier') ?? null;
  const saleDate = config.features.saleDate ?? null;
  const extra = [config.target.column, saleDate, idCol];
  const wanted = [...fields, ...extra].map((name) => ({ name: name ?? '__none__' }));
  const rows: { rowIndex: number; values: NormalizedValue[] }[] = [];
  for (const r of store.iterateRows(ds, wanted)) if (fields.every((_, i) => r.values[i] !== null && r.values[i] !== '')) rows.push(r);
  if (rows.length === 0) return null;
  const n = rows.length;
  const num = fields.map((f, j) => (NUMERIC.has(cols[f].type) ? j : -1)).filter((j) => j >= 0);
  const cat = fields.map((f, j) => (NUMERIC.has(cols[f].type) ? -1 : j)).filter((j) => j >= 0);
  // Numbers as scores around the median in units of the interquartile range, row-major for the distance loop.
  const X = new Float64Array(n * num.length);
  // Quartiles from an even sample of the rows: exact enough to set a scale, and sorting every column is not cheap.
  const qStep = Math.max(1, Math.floor(n / SAMPLE));
  num.forEach((j, k) => {
    const xs = new Float64Array(n);
    for (let i = 0; i < n; i++) xs[i] = Number(rows[i].values[j]);
    const sorted = new Float64Array(Math.ceil(n / qStep));
    for (let i = 0, m = 0; i < n; i += qStep, m++) sorted[m] = xs[i];
    sorted.sort();
    const q = (p: number) => sorted[Math.floor(p * (sorted.length - 1))];
    const spread = q(0.75) - q(0.25) || sorted[sorted.length - 1] - sorted[0] || 1;
    const mid = q(0.5);
    for (let i = 0; i < n; i++) X[i * num.length + k] = (xs[i] - mid) / spread;
  });
  // Categories as codes, 0 being the most frequent value.
  const C = new Int32Array(n * cat.length);
  cat.forEach((j, k) => {
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(String(r.values[j]), (counts.get(String(r.values[j])) ?? 0) + 1);
    const code = new Map([...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([v], c) => [v, c]));
    rows.forEach((r, i) => (C[i * cat.length + k] = code.get(String(r.values[j]))!));
  });
  const nn = num.length;
  const nc = cat.length;
  const dist = (a: number, b: number) => {
    let d = 0;
    for (let k = 0; k < nn; k++) d += Math.abs(X[a * nn + k] - X[b * nn + k]);
    for (let k = 0; k < nc; k++) if (C[a * nc + k] !== C[b * nc + k]) d += 1;
    return d;
  };
  // Candidates: the sales nearest the centre (0 for the scaled numbers, the most frequent value for categories).
  const centre = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let d = 0;
    for (let k = 0; k < nn; k++) d += Math.abs(X[i * nn + k]);
    for (let k = 0; k < nc; k++) if (C[i * nc + k] !== 0) d += 1;
    centre[i] = d;
  }
  const candidates = Array.from({ length: n }, (_, i) => i)
    .sort((a, b) => centre[a] - centre[b] || a - b)
    .slice(0, CANDIDATES);
  const step = Math.max(1, Math.floor(n / SAMPLE));
  let best = candidates[0];
  let bestTotal = Infinity;
  for (const c of candidates) {
    let total = 0;
    for (let i = 0; i < n && total < bestTotal; i += step) total += dist(c, i);
    if (total < bestTotal) {
      bestTotal = total;
      best = c;
    }
  }
  const r = rows[best];
  const at = (k: number) => r.values[fields.length + k];
  const price = at(0);
  return {
    datasetId: ds.id,
    rowIndex: r.rowIndex,
    saleId: idCol && at(2) !== null ? String(at(2)) : null,
    saleDate: saleDate && typeof at(1) === 'string' ? (at(1) as string) : null,
    price: typeof price === 'number' ? price : null,
    values: Object.fromEntries(fields.map((f, j) => [f, r.values[j]])),
    fields,
  };
}
