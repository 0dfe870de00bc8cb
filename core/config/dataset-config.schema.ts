import { z } from 'zod';

/**
 * The YAML configuration that describes one family of house-sales files: the columns and how to read them,
 * the target, the derived features and pipeline settings. Any house-sales CSV works with a new YAML file alone.
 * `docs/config.md` is the annotated reference; keep the two in step.
 */

const missingTokens = z.array(z.string()).describe('strings that mean "no value"');

const columnBase = {
  /** A row without a value here is quarantined. */
  required: z.boolean().default(false),
  /** Extra missing-value tokens for this column, on top of `dataset.missing`. */
  missing: missingTokens.optional(),
  /** Human description, shown in the valuation form. */
  label: z.string().optional(),
  /** Unit shown next to the field in the form (e.g. "sqft", "USD"). */
  unit: z.string().optional(),
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
  format: z.string().min(1),
  /** Earliest and latest valid dates, ISO "YYYY-MM-DD". */
  min: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'use an ISO date like 1900-01-01')
    .optional(),
  max: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'use an ISO date like 2100-12-31')
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

const columnName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z_][A-Za-z0-9_ .-]*$/, 'column names start with a letter or _ and use letters, digits, _ . - or spaces');

/** Derived features are a closed set of kinds, not an expression language: configs come from other people. */
export const derivedFeatureSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('years_between'),
    name: columnName,
    /** A year column (e.g. yr_built). */
    fromYear: z.string(),
    /** The date column of the sale (the valuation date at inference). */
    toDate: z.string(),
  }),
  z.strictObject({
    kind: z.literal('years_since'),
    name: columnName,
    /** A year column where 0 or missing means "never happened" (e.g. yr_renovated). */
    eventYear: z.string(),
    /** Used when the event never happened (e.g. yr_built). */
    fallbackYear: z.string().optional(),
    atDate: z.string(),
  }),
  z.strictObject({
    kind: z.literal('month_index'),
    name: columnName,
    date: z.string(),
    /** Month 0, "YYYY-MM". */
    origin: z.string().regex(/^\d{4}-\d{2}$/, 'use "YYYY-MM", e.g. 2014-01'),
  }),
  z.strictObject({
    kind: z.literal('ratio'),
    name: columnName,
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
});

export type DatasetConfig = z.infer<typeof datasetConfigSchema>;
