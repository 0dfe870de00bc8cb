import { z } from 'zod';
import { monitoringConfigSchema } from './monitoring-config.schema.js';
import { syncConfigSchema } from './sync-config.schema.js';
import { marketConfigSchema } from './market-config.schema.js';
import { dateFormatProblem } from './date-format-fields.js';

/**
 * True for an ISO date that exists on the calendar ("2014-13-45" has the right shape but is no date): dates in a
 * config are compared and subtracted at ingest and training, where a non-date was a bug exit instead of a config
 * error (issue 14, #8).
 */
function isCalendarDate(iso: string): boolean {
  const [y, m, d] = iso.split('-').map(Number);
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/**
 * The YAML configuration that describes one family of house-sales files: the columns and how to read them,
 * the target, the derived features and pipeline settings. Any house-sales CSV works with a new YAML file alone.
 * `docs/config.md` is the annotated reference; keep the two in step.
 */

const missingTokens = z.array(z.string()).describe('strings that mean "no value"');

/**
 * A column's name: any text a spreadsheet header can hold ("1st Flr SF", "Year Remod/Add", "Fläche m²"), because
 * configs describe other people's files. Refused only what cannot round-trip through a header and SQLite: empty
 * text, control characters, spaces at either end (headers are trimmed) and over-long names. Names are always
 * quoted in SQL (`quoteIdent`), so no character is special there.
 */
export const COLUMN_NAME_RULE =
  'a column name is 1-128 characters of any text without control characters or spaces at either end; ' +
  'in YAML quote a name with special characters ("Year Remod/Add": { type: integer }), or give the column a ' +
  'plain name and the header text as source (year_remod: { type: integer, source: "Year Remod/Add" })';
const columnName = z
  .string()
  .min(1, COLUMN_NAME_RULE)
  .max(128, COLUMN_NAME_RULE)
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s) && s.trim() === s, COLUMN_NAME_RULE);

const columnBase = {
  /**
   * The file's header text for this column, when it differs from the column's name (which the config, the
   * model and the form use). Optional, not defaulted: configs without it keep their hash.
   */
  source: columnName.optional(),
  /** A row without a value here is quarantined. */
  required: z.boolean().default(false),
  /** Extra missing-value tokens for this column, on top of `dataset.missing`. */
  missing: missingTokens.optional(),
  /** Human description, shown in the valuation form. */
  label: z.string().optional(),
  /** Unit shown next to the field in the form (e.g. "sqft", "USD"). */
  unit: z.string().optional(),
  // Display-only keys (core/config/display-keys.ts): left out of the config hash, so adding them to a shipped
  // config keeps its datasets' ids and the models trained on them.
  /** How values are written: `year` writes 1951, not 1,951. Display only. */
  display: z.enum(['number', 'year']).optional(),
  /** What 0 means here, shown instead of 0 (e.g. "never" for a year of renovation). Display only. */
  zeroMeans: z.string().min(1).max(40).optional(),
  /** The adjustment-grid row this feature's adjustment is added to; default from its type. Display only. */
  gridGroup: z.lazy(() => gridGroupSchema).optional(),
};

const rangeFields = {
  min: z.number().optional(),
  max: z.number().optional(),
};

const numericColumn = z.strictObject({ type: z.literal('numeric'), ...columnBase, ...rangeFields });
const integerColumn = z.strictObject({ type: z.literal('integer'), ...columnBase, ...rangeFields });
const latitudeColumn = z.strictObject({ type: z.literal('latitude'), ...columnBase, ...rangeFields });
const longitudeColumn = z.strictObject({ type: z.literal('longitude'), ...columnBase, ...rangeFields });
const categoricalColumn = z.strictObject({
  type: z.literal('categorical'),
  ...columnBase,
  /** If given, any other value is invalid; otherwise categories are learned from the data. */
  values: z.array(z.union([z.string(), z.number()])).optional(),
  /** Compare case-insensitively (values are stored lower-cased). */
  ignoreCase: z.boolean().default(false),
});
const ordinalColumn = z.strictObject({
  type: z.literal('ordinal'),
  ...columnBase,
  /** Ordered levels, lowest first. Numeric levels match numerically ("3.0" is level 3). */
  levels: z.array(z.union([z.string(), z.number()])).min(2, 'an ordinal column needs at least two levels'),
  /** Names of levels, keyed by level: `{ 7: Average }` shows grade 7 as "7 — Average". Display only. */
  levelLabels: z.record(z.string(), z.string().min(1).max(80)).optional(),
});
const booleanColumn = z.strictObject({
  type: z.literal('boolean'),
  ...columnBase,
  trueValues: z.array(z.string()).default(['1', '1.0', 'true', 'yes', 'y', 't']),
  falseValues: z.array(z.string()).default(['0', '0.0', 'false', 'no', 'n', 'f']),
});
const dateColumn = z.strictObject({
  type: z.literal('date'),
  ...columnBase,
  /** Tokens: YYYY, MM, M, DD, D, literal other characters; e.g. "M/D/YYYY", "YYYY-MM-DD", "DD.MM.YYYY", "YYYYMMDD'T'000000". */
  format: z
    .string()
    .min(1)
    .superRefine((f, ctx) => {
      const problem = dateFormatProblem(f);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  /** Earliest and latest valid dates, ISO "YYYY-MM-DD". */
  min: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'use an ISO date like 1900-01-01')
    .refine(isCalendarDate, 'use an ISO date like 1900-01-01')
    .optional(),
  max: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'use an ISO date like 2100-12-31')
    .refine(isCalendarDate, 'use an ISO date like 2100-12-31')
    .optional(),
});
const identifierColumn = z.strictObject({ type: z.literal('identifier'), ...columnBase });

export const columnSchema = z.discriminatedUnion('type', [
  numericColumn,
  integerColumn,
  latitudeColumn,
  longitudeColumn,
  categoricalColumn,
  ordinalColumn,
  booleanColumn,
  dateColumn,
  identifierColumn,
]);
export type ColumnConfig = z.infer<typeof columnSchema>;
export type ColumnType = ColumnConfig['type'];

/** The rows of the sales comparison grid appraisers use (URAR-style); each feature's adjustment goes to one. */
export const gridGroupSchema = z.enum(['time', 'location', 'site', 'size', 'quality', 'condition', 'age', 'rooms', 'other']);
export type GridGroup = z.output<typeof gridGroupSchema>;

/** How a derived feature is shown (reasons, grid, report). Display only: not in the config hash. */
const derivedDisplay = {
  label: z.string().min(1).max(120).optional(),
  unit: z.string().min(1).max(40).optional(),
  gridGroup: gridGroupSchema.optional(),
};

/** One cross-field rule; its expression is checked (syntax, columns) when the config is loaded. */
export const ruleSchema = z.strictObject({
  /** Named in quarantine reasons and form errors. */
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'a rule name is up to 64 letters, digits or _ (e.g. renovated_after_built)'),
  /** The expression that must hold, e.g. "yr_renovated == 0 or yr_renovated >= yr_built". */
  check: z.string().min(1).max(500),
  /** Said when the rule is broken, instead of the expression (e.g. "renovated before it was built"). */
  message: z.string().min(1).max(300).optional(),
});
export type RuleConfig = z.output<typeof ruleSchema>;

/** Derived features are a closed set of kinds, not an expression language: configs come from other people. */
export const derivedFeatureSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('years_between'),
    name: columnName,
    ...derivedDisplay,
    /** A year column (e.g. yr_built). */
    fromYear: z.string(),
    /** The date column of the sale (the valuation date at inference). */
    toDate: z.string(),
  }),
  z.strictObject({
    kind: z.literal('years_since'),
    name: columnName,
    ...derivedDisplay,
    /** A year column where 0 or missing means "never happened" (e.g. yr_renovated). */
    eventYear: z.string(),
    /** Used when the event never happened (e.g. yr_built). */
    fallbackYear: z.string().optional(),
    atDate: z.string(),
  }),
  z.strictObject({
    kind: z.literal('month_index'),
    name: columnName,
    ...derivedDisplay,
    date: z.string(),
    /** Month 0, "YYYY-MM". */
    origin: z
      .string()
      .regex(/^\d{4}-\d{2}$/, 'use "YYYY-MM", e.g. 2014-01')
      .refine((m) => isCalendarDate(`${m}-01`), 'use "YYYY-MM" with a month from 01 to 12, e.g. 2014-01'),
  }),
  z.strictObject({
    kind: z.literal('ratio'),
    name: columnName,
    ...derivedDisplay,
    numerator: z.string(),
    denominator: z.string(),
  }),
]);

export const datasetConfigSchema = z.strictObject({
  version: z.literal(1, 'this build reads config version 1; set "version: 1"'),
  /** Short name, used as the default dataset name. */
  name: z.string().min(1).max(64),
  description: z.string().optional(),
  dataset: z.strictObject({
    delimiter: z.string().length(1, 'the delimiter is one character, e.g. "," or ";"').default(','),
    /** Global missing-value tokens (compared after trimming spaces). */
    missing: missingTokens.default(['', 'NA', 'N/A', 'null', 'NULL']),
    /** Columns in the file that the schema does not list: ignore them, or refuse the file. */
    extraColumns: z.enum(['ignore', 'error']).default('ignore'),
    columns: z.record(columnName, columnSchema).refine((c) => Object.keys(c).length > 0, 'declare at least one column'),
  }),
  target: z.strictObject({
    column: z.string(),
    /** The model learns transform(target); predictions are transformed back. */
    transform: z.enum(['log', 'log1p', 'none']).default('log'),
    /**
     * ISO 4217 code of the target's currency, used to show prices; absent means USD. Optional rather than
     * defaulted so that configs without it keep their hash (and their datasets are still recognised).
     */
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'use an ISO 4217 currency code in capitals, e.g. USD or EUR')
      .optional(),
    /** Estimates are shown rounded to this many currency units, as appraisers round (default 1000). Display only. */
    roundTo: z.number().positive().max(1_000_000).optional(),
  }),
  features: z
    .strictObject({
      /** Columns used as features; default: every column except identifiers and the target. */
      include: z.array(z.string()).optional(),
      exclude: z.array(z.string()).default([]),
      /** The date column that marks a sale (its value at inference is the valuation date). */
      saleDate: z.string().optional(),
      /** Origin of the day index for date features, ISO date. */
      dateOrigin: z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}$/, 'use an ISO date like 2014-01-01')
        .refine(isCalendarDate, 'use an ISO date like 2014-01-01')
        .default('2014-01-01'),
      derived: z.array(derivedFeatureSchema).default([]),
    })
    .default({ exclude: [], dateOrigin: '2014-01-01', derived: [] }),
  comparables: z
    .strictObject({
      /** Columns the comparable-sales distance uses, besides location. */
      attributes: z.array(z.string()).default([]),
      latitude: z.string().optional(),
      longitude: z.string().optional(),
      k: z.number().int().min(1).max(50).default(5),
    })
    .optional(),
  pipeline: z
    .strictObject({
      ingest: z
        .strictObject({
          batchSize: z.number().int().min(100).max(1_000_000).default(20_000),
          /** Longest accepted record; longer ones are quarantined without being held in memory. */
          maxRecordBytes: z
            .number()
            .int()
            .min(1024)
            .max(64 * 1024 * 1024)
            .default(1024 * 1024),
        })
        .default({ batchSize: 20_000, maxRecordBytes: 1024 * 1024 }),
    })
    .default({ ingest: { batchSize: 20_000, maxRecordBytes: 1024 * 1024 } }),
  /** Monitoring thresholds (drift, data quality, ratio study); optional so configs without it keep their hash. */
  monitoring: monitoringConfigSchema.optional(),
  /** The local price index (core/market; docs/config.md "market"); optional so configs without it keep their hash. */
  market: marketConfigSchema.optional(),
  /** How a device treats models pulled from the registry (docs/config.md "sync"); optional so configs without it keep their hash. */
  sync: syncConfigSchema.optional(),
  /**
   * Cross-field checks every row and every valued property must pass (core/config/rule-expression.ts), e.g.
   * `{ name: above_within_living, check: sqft_above <= sqft_living }`. A row that breaks one is quarantined with
   * the rule's name. Optional so configs without it keep their hash; part of the hash when given (it changes
   * which rows a dataset holds).
   */
  rules: z.array(ruleSchema).max(100).optional(),
});

export type DatasetConfig = z.infer<typeof datasetConfigSchema>;
