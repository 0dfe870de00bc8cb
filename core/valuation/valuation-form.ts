import { z } from 'zod';
import type { DatasetVersion } from '../datasets/dataset-store.js';
import type { ColumnConfig, DatasetConfig } from '../config/dataset-config.schema.js';

/** One field of the valuation form, derived from the active dataset configuration. */
export const formFieldSchema = z.object({
  name: z.string(),
  type: z.string(),
  label: z.string(),
  unit: z.string().nullable(),
  required: z.boolean(),
  min: z.union([z.number(), z.string()]).nullable(),
  max: z.union([z.number(), z.string()]).nullable(),
  /** Allowed values (ordinal levels, fixed categories, or the most frequent categories seen in the data). */
  options: z.array(z.string()).nullable(),
  /** Only the listed options are valid (ordinals, fixed categories, booleans). */
  closed: z.boolean(),
  /** A sensible starting value: the median or most frequent value of the training data. */
  default: z.union([z.string(), z.number()]).nullable(),
  /** How each option is shown: "7 — Average" for a named ordinal level, "Yes"/"No" for a boolean. */
  optionLabels: z.record(z.string(), z.string()).optional(),
  /** Shown instead of 0 (e.g. "never" for a year of renovation). */
  zeroMeans: z.string().optional(),
  /** `year`: written without thousands separators (1951). */
  display: z.enum(['number', 'year']).optional(),
});
export type FormField = z.output<typeof formFieldSchema>;

export const formSchemaSchema = z.object({
  configName: z.string(),
  datasetId: z.string(),
  datasetName: z.string(),
  /** `currency`: ISO 4217 code prices are shown in (the config's `target.currency`, default USD). */
  target: z.object({ column: z.string(), label: z.string(), unit: z.string().nullable(), currency: z.string() }),
  /** The sale-date column, whose value at valuation time is the valuation date; not shown as a field. */
  saleDate: z.string().nullable(),
  /** The latest sale date in the data (ISO), a sensible valuation date for a model trained on it; null: today. */
  defaultValuationDate: z.string().nullable(),
  fields: z.array(formFieldSchema),
  /**
   * Every model feature's label and unit, by feature name: the input columns, the sale date and the derived
   * features (which have no field), so reasons, the grid and the report never show a developer name.
   */
  features: z.record(z.string(), z.object({ label: z.string(), unit: z.string().nullable() })).optional(),
  /** Estimates are shown rounded to this many currency units (the config's `target.roundTo`, default 1000). */
  roundTo: z.number().optional(),
});
export type FormSchema = z.output<typeof formSchemaSchema>;

const MAX_OPTIONS = 200;

/**
 * The valuation form for a dataset version: one field per input column of its configuration (not the target,
 * not identifiers, not the sale date — that is the valuation date), with units, ranges, allowed values and
 * defaults taken from the data's quality profile (median of numbers, most frequent category).
 */
export function buildFormSchema(ds: DatasetVersion): FormSchema {
  const config = ds.config;
  const quality = new Map((ds.quality?.columns ?? []).map((c) => [c.name, c]));
  const saleDate = config.features.saleDate ?? null;
  const fields: FormField[] = [];
  for (const [name, col] of Object.entries(config.dataset.columns)) {
    if (name === config.target.column || name === saleDate || col.type === 'identifier') continue;
    const q = quality.get(name);
    const median = q?.quantiles?.find((p) => p.p === 0.5)?.value ?? (typeof q?.mean === 'number' ? q.mean : null);
    const top = q?.topValues[0]?.value ?? null;
    let options: string[] | null = null;
    let closed = false;
    let def: string | number | null = null;
    switch (col.type) {
      case 'numeric':
      case 'latitude':
      case 'longitude':
        def = median === null ? null : Number(median.toPrecision(6));
        break;
      case 'integer':
        def = median === null ? null : Math.round(median);
        break;
      case 'ordinal':
        options = col.levels.map(String);
        closed = true;
        def = top !== null && options.includes(normalizeLevel(top)) ? normalizeLevel(top) : options[Math.floor(options.length / 2)];
        break;
      case 'categorical':
        options = col.values ? col.values.map(String) : (q?.topValues ?? []).slice(0, MAX_OPTIONS).map((t) => t.value);
        closed = Boolean(col.values);
        def = top;
        break;
      case 'boolean':
        options = [col.falseValues[0] ?? '0', col.trueValues[0] ?? '1'];
        closed = true;
        def = top !== null && Number(top) === 1 ? options[1] : options[0];
        break;
      case 'date':
        def = null;
        break;
    }
    fields.push({
      ...displayOf(col, options),
      name,
      type: col.type,
      label: col.label ?? name,
      unit: col.unit ?? (col.type === 'date' ? col.format : null),
      required: col.required,
      min: 'min' in col && col.min !== undefined ? col.min : null,
      max: 'max' in col && col.max !== undefined ? col.max : null,
      options,
      closed,
      default: def,
    });
  }
  const targetCol = config.dataset.columns[config.target.column];
  return {
    configName: config.name,
    datasetId: ds.id,
    datasetName: ds.name,
    // USD is also what datasets stored before configs had a currency get.
    target: {
      column: config.target.column,
      label: targetCol?.label ?? config.target.column,
      unit: targetCol?.unit ?? null,
      currency: config.target.currency ?? 'USD',
    },
    saleDate,
    defaultValuationDate: latestIsoDate(saleDate ? quality.get(saleDate)?.max : null),
    fields,
    features: featureLabels(config),
    roundTo: config.target.roundTo ?? DEFAULT_ROUND_TO,
  };
}

/** Appraisers report values rounded, typically to the nearest thousand. */
export const DEFAULT_ROUND_TO = 1000;

/** The display keys of a column as form-field properties (absent keys stay absent). */
function displayOf(col: ColumnConfig, options: string[] | null): Pick<FormField, 'optionLabels' | 'zeroMeans' | 'display'> {
  const out: Pick<FormField, 'optionLabels' | 'zeroMeans' | 'display'> = {};
  if (col.type === 'ordinal' && col.levelLabels && options) {
    const named = col.levelLabels;
    out.optionLabels = Object.fromEntries(options.map((o) => [o, named[o] ? `${o} — ${named[o]}` : o]));
  } else if (col.type === 'boolean' && options) {
    out.optionLabels = { [options[0]]: 'No', [options[1]]: 'Yes' };
  }
  if (col.zeroMeans) out.zeroMeans = col.zeroMeans;
  if (col.display) out.display = col.display;
  return out;
}

/** Labels of every feature: columns by their label, derived features by theirs or one said from their kind. */
function featureLabels(config: DatasetConfig): Record<string, { label: string; unit: string | null }> {
  const cols = config.dataset.columns;
  const labelOf = (c: string) => cols[c]?.label ?? c;
  const out: Record<string, { label: string; unit: string | null }> = {};
  for (const [name, col] of Object.entries(cols)) out[name] = { label: col.label ?? name, unit: col.unit ?? null };
  for (const d of config.features.derived) {
    const said =
      d.kind === 'years_between'
        ? `Years from ${labelOf(d.fromYear).toLowerCase()} to ${labelOf(d.toDate).toLowerCase()}`
        : d.kind === 'years_since'
          ? `Years since ${labelOf(d.eventYear).toLowerCase()}`
          : d.kind === 'month_index'
            ? `Months since ${d.origin}`
            : `${labelOf(d.numerator)} per ${labelOf(d.denominator).toLowerCase()}`;
    const unit = d.kind === 'month_index' ? 'months' : d.kind === 'ratio' ? null : 'years';
    out[d.name] = { label: d.label ?? said, unit: d.unit ?? unit };
  }
  return out;
}

/** Stored ordinal values may be "3.0" or 3 where the level is written 3. */
function normalizeLevel(v: string): string {
  const n = Number(v);
  return Number.isFinite(n) && v.trim() !== '' ? String(n) : v;
}

function latestIsoDate(v: unknown): string | null {
  return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v) ? v.slice(0, 10) : null;
}
