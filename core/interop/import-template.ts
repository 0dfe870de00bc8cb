import { z } from 'zod';
import type { FeatureDef, FeatureTransform } from '../features/feature-transform.js';

/**
 * The list of model inputs an external model must be trained on: names in column order, and how each value is
 * encoded from a sale's record. It is derived from the fitted FeatureTransform (the same one training uses), so a
 * model trained on these columns reads them exactly as Appraise writes them at valuation time.
 */
export const IMPORT_TEMPLATE_FORMAT = 'appraise-import-template/1';

export const templateInputSchema = z.object({
  /** 0-based column index in the model's input matrix. */
  index: z.number().int(),
  name: z.string(),
  /**
   * numeric: the column's number as is; days: whole days since `origin`; ordinal: 0-based position in `levels`;
   * category: 0-based code in `levels` (unseen categories are missing), to be declared categorical in the tool;
   * derived: computed from other columns as `spec` says.
   */
  encoding: z.enum(['numeric', 'days', 'ordinal', 'category', 'derived']),
  kind: z.enum(['numeric', 'categorical']),
  column: z.string().nullable(),
  origin: z.string().optional(),
  levels: z.array(z.string()).optional(),
  spec: z.record(z.string(), z.unknown()),
});

export const importTemplateSchema = z.object({
  format: z.literal(IMPORT_TEMPLATE_FORMAT),
  config: z.string(),
  /** sha256 of the feature transform the template describes: the same hash lands in an imported model's manifest. */
  transformHash: z.string(),
  /** Dataset whose category frequencies fixed the category codes (null when the config has no categories). */
  vocabularyDataset: z.object({ id: z.string(), name: z.string() }).nullable(),
  target: z.object({ column: z.string(), transform: z.enum(['log', 'log1p', 'none']), modelPredicts: z.string() }),
  missing: z.literal('NaN'),
  inputs: z.array(templateInputSchema),
});
export type ImportTemplate = z.output<typeof importTemplateSchema>;

function inputOf(f: FeatureDef, index: number, vocabularies: Record<string, string[]>): z.output<typeof templateInputSchema> {
  const s = f.spec;
  const base = { index, name: f.name, kind: f.kind, spec: { ...s } as Record<string, unknown> };
  switch (s.op) {
    case 'number':
      return { ...base, encoding: 'numeric', column: s.column };
    case 'days':
      return { ...base, encoding: 'days', column: s.column, origin: s.origin };
    case 'ordinal':
      return { ...base, encoding: 'ordinal', column: s.column, levels: s.levels };
    case 'category':
      return { ...base, encoding: 'category', column: s.column, levels: vocabularies[f.name] ?? [] };
    default:
      return { ...base, encoding: 'derived', column: null };
  }
}

export function importTemplate(transform: FeatureTransform, configName: string, vocabularyDataset: { id: string; name: string } | null): ImportTemplate {
  const tr = transform.target.transform;
  const col = transform.target.column;
  return {
    format: IMPORT_TEMPLATE_FORMAT,
    config: configName,
    transformHash: transform.hash,
    vocabularyDataset,
    target: { column: col, transform: tr, modelPredicts: tr === 'none' ? col : `${tr}(${col})` },
    missing: 'NaN',
    inputs: transform.features.map((f, i) => inputOf(f, i, transform.vocabularies)),
  };
}
