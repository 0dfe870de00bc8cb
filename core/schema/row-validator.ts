import type { DatasetConfig, ColumnConfig } from '../config/dataset-config.schema.js';
import { quoteForMessage } from '../common/quote-for-message.js';
import { badFile } from '../common/errors.js';
import { compileColumnParser, FieldProblem, sqliteTypeOf, type ColumnParser, type NormalizedValue, type ProblemKind } from './column-parser.js';
import { compileRowRules, type RowRules } from './row-rules.js';

export interface SchemaColumn {
  name: string;
  config: ColumnConfig;
  sqlType: 'REAL' | 'INTEGER' | 'TEXT';
}

/** The columns of a dataset version, in config order; stored with the dataset. */
export function schemaColumns(config: DatasetConfig): SchemaColumn[] {
  return Object.entries(config.dataset.columns).map(([name, col]) => ({ name, config: col, sqlType: sqliteTypeOf(col) }));
}

/** The header text a schema column is read from: its `source`, else its own name. */
export function headerNameOf(column: SchemaColumn): string {
  return column.config.source ?? column.name;
}

/** How an error names a column: by its header text, and by its config name too when the two differ. */
function describeColumn(column: SchemaColumn): string {
  const header = headerNameOf(column);
  return header === column.name ? `"${header}"` : `"${header}" (column ${column.name})`;
}

/** A file header as the schema sees it: byte-order mark removed, names trimmed. */
export function cleanHeader(header: string[]): string[] {
  return header.map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, '') : h).trim());
}

export interface HeaderMapping {
  /** For each schema column, its index in the file's header, or -1 when the file does not have it. */
  sourceIndex: number[];
  /** Declared, optional columns the file lacks: every row gets null there. */
  absentOptional: string[];
  /** File columns the schema does not declare (ignored). */
  ignored: string[];
}

/**
 * Matches a file's header to the schema. Fails fast, before anything is written, when the file cannot be the
 * dataset the config describes: duplicate or missing required columns, or one column where many are expected
 * (usually the wrong delimiter).
 */
export function mapHeader(config: DatasetConfig, header: string[]): HeaderMapping {
  const cleaned = cleanHeader(header);
  const cols = schemaColumns(config);
  const wanted = new Set(cols.map(headerNameOf));
  // Empty headers (a spreadsheet's exported row index) and repeated headers the schema does not read are
  // ignored; a repeated header the schema reads is ambiguous and refused.
  const seen = new Map<string, number>();
  cleaned.forEach((h, i) => {
    if (h === '') return;
    if (seen.has(h) && wanted.has(h)) throw badFile(`the header names column "${h}" twice (columns ${seen.get(h)! + 1} and ${i + 1}); rename one of them`);
    if (!seen.has(h)) seen.set(h, i);
  });
  const required = cols.filter((c) => c.config.required || c.name === config.target.column);
  const missingRequired = required.filter((r) => !seen.has(headerNameOf(r))).map(describeColumn);
  if (missingRequired.length > 0) {
    const delimiterHint =
      cleaned.length === 1 && cols.length > 1
        ? ` The file has a single column — is the delimiter "${config.dataset.delimiter}" right, and is this a CSV file?`
        : '';
    throw badFile(
      `the file lacks required column${missingRequired.length > 1 ? 's' : ''} ${missingRequired.join(', ')}; ` +
        `its header has: ${cleaned
          .slice(0, 30)
          .map((c) => `"${c.slice(0, 40)}"`)
          .join(', ')}${cleaned.length > 30 ? ', …' : ''}.${delimiterHint}`,
    );
  }
  const ignored = cleaned.filter((h) => h !== '' && !wanted.has(h));
  if (config.dataset.extraColumns === 'error' && ignored.length > 0) {
    throw badFile(
      // Header text is the file's: quoted in part, and only the first few (issue 14, #5).
      `the file has columns the config does not declare: ${ignored
        .slice(0, 20)
        .map((h) => quoteForMessage(h, 40))
        .join(', ')}${ignored.length > 20 ? ` and ${ignored.length - 20} more` : ''} (set dataset.extraColumns: ignore to skip them)`,
    );
  }
  return {
    sourceIndex: cols.map((c) => seen.get(headerNameOf(c)) ?? -1),
    absentOptional: cols.filter((c) => !seen.has(headerNameOf(c))).map((c) => c.name),
    ignored,
  };
}

/**
 * Applies a column mapping chosen by a person (schema column → the file's own column name) to a file header, so a
 * file whose columns are named differently can be read without editing it. Every mapped file column must exist.
 */
export function renameHeader(config: DatasetConfig, header: string[], columnMap: Record<string, string> = {}): string[] {
  const cleaned = cleanHeader(header);
  const out = [...cleaned];
  const used = new Set<string>();
  for (const [schemaName, fileName] of Object.entries(columnMap)) {
    const col = config.dataset.columns[schemaName] as ColumnConfig | undefined;
    if (!col) throw badFile(`column mapping: "${schemaName}" is not a column of the schema`);
    // The header is rewritten to what `mapHeader` looks for: the column's source text when it has one.
    const headerName = col.source ?? schemaName;
    const i = cleaned.indexOf(fileName);
    if (i === -1) throw badFile(`column mapping: the file has no column "${fileName}" (it has: ${cleaned.slice(0, 30).join(', ')})`);
    if (used.has(fileName)) throw badFile(`column mapping: the file column "${fileName}" is mapped twice`);
    used.add(fileName);
    // A file column that already carries the schema name is displaced, so the mapped one wins.
    const clash = out.indexOf(headerName);
    if (clash !== -1 && clash !== i) out[clash] = `${headerName} (unmapped)`;
    out[i] = headerName;
  }
  return out;
}

/** Problem counts per column and kind, for the quality report. */
export type ProblemCounts = Record<string, Partial<Record<ProblemKind | 'ragged' | 'rule', number>>>;

/**
 * Validates records against the schema. Compiled once per file; `validate` is the ingest hot path, so it writes
 * normalized values straight into the caller's batch array instead of allocating a row.
 */
export class RowValidator {
  readonly columns: SchemaColumn[];
  readonly problemCounts: ProblemCounts = {};
  /** Per schema column: its compiled parser, and its position in the file's records (−1: not in the file). */
  readonly parsers: ColumnParser[];
  readonly sourceIndex: number[];
  readonly headerLength: number;
  /** The config's cross-field rules, checked once every field of a row is valid; null: the config has none. */
  readonly rules: RowRules | null;

  constructor(config: DatasetConfig, header: string[]) {
    this.columns = schemaColumns(config);
    this.sourceIndex = mapHeader(config, header).sourceIndex;
    this.headerLength = header.length;
    this.parsers = this.columns.map((c) => compileColumnParser(c.name, c.config, config.dataset.missing));
    this.rules = compileRowRules(config);
  }

  /** Position of a schema column in the file's records, or −1 when the file lacks it. */
  fileIndexOf(column: string): number {
    const c = this.columns.findIndex((x) => x.name === column);
    return c === -1 ? -1 : this.sourceIndex[c];
  }

  /**
   * Writes the row's normalized values into `out` at `offset` and returns null, or returns every reason the
   * row is invalid (the contents of `out` are then undefined).
   */
  validate(fields: string[], out: NormalizedValue[], offset: number): string[] | null {
    if (fields.length !== this.headerLength) {
      this.count('_row', 'ragged');
      return [`has ${fields.length} field${fields.length === 1 ? '' : 's'}, the header has ${this.headerLength}`];
    }
    let reasons: string[] | null = null;
    const parsers = this.parsers;
    const idx = this.sourceIndex;
    for (let c = 0; c < parsers.length; c++) {
      const src = idx[c];
      const v = src === -1 ? null : parsers[c](fields[src]);
      if (v instanceof FieldProblem) {
        (reasons ??= []).push(v.reason);
        this.count(this.columns[c].name, v.kind);
      } else out[offset + c] = v;
    }
    // Rules compare fields with each other, so they are only meaningful once each field is valid on its own.
    if (reasons === null && this.rules !== null) {
      const broken = this.rules.check(out, offset);
      if (broken) {
        for (const b of broken) this.count(`rule ${b.rule}`, 'rule');
        return broken.map((b) => b.reason);
      }
    }
    return reasons;
  }

  private count(column: string, kind: ProblemKind | 'ragged' | 'rule'): void {
    const byKind = (this.problemCounts[column] ??= {});
    byKind[kind] = (byKind[kind] ?? 0) + 1;
  }
}

/** Compiled parsers per config object: the valuation form validates on every keystroke and every valuation. */
const parserCache = new WeakMap<DatasetConfig, Map<string, ColumnParser>>();

function propertyParsers(config: DatasetConfig): Map<string, ColumnParser> {
  let parsers = parserCache.get(config);
  if (!parsers) {
    // The target is never required of a property being valued: it is what we estimate.
    parsers = new Map(
      schemaColumns(config).map((c) => [
        c.name,
        compileColumnParser(c.name, { ...c.config, required: c.config.required && c.name !== config.target.column }, config.dataset.missing),
      ]),
    );
    parserCache.set(config, parsers);
  }
  return parsers;
}

/** Validates one property entered by a person (values keyed by column name); returns values or field errors. */
export function validateProperty(
  config: DatasetConfig,
  input: Record<string, unknown>,
  options: { skip?: string[] } = {},
): { ok: true; values: Record<string, NormalizedValue> } | { ok: false; errors: { field: string; message: string }[] } {
  const errors: { field: string; message: string }[] = [];
  const values: Record<string, NormalizedValue> = {};
  const known = new Set(Object.keys(config.dataset.columns));
  for (const key of Object.keys(input)) {
    if (!known.has(key)) errors.push({ field: key, message: `${key}: not a column of this dataset's schema` });
  }
  const parsers = propertyParsers(config);
  for (const c of schemaColumns(config)) {
    if (options.skip?.includes(c.name)) continue;
    const parser = parsers.get(c.name)!;
    const raw = input[c.name];
    if (raw !== undefined && raw !== null && typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
      errors.push({ field: c.name, message: `${c.name}: expected text or a number, got ${Array.isArray(raw) ? 'a list' : typeof raw}` });
      continue;
    }
    // JSON true/false stand for a yes/no column's values only; `true` as a floor area would otherwise read as 1.
    if (typeof raw === 'boolean' && c.config.type !== 'boolean') {
      const wants = ['numeric', 'integer', 'latitude', 'longitude'].includes(c.config.type) ? 'a number' : 'text';
      errors.push({ field: c.name, message: `${c.name}: expected ${wants}, got ${String(raw)}` });
      continue;
    }
    if (typeof raw === 'number' && !Number.isFinite(raw)) {
      errors.push({ field: c.name, message: `${c.name}: ${String(raw)} is not a finite number` });
      continue;
    }
    const v = parser(raw === undefined || raw === null ? '' : typeof raw === 'boolean' ? (raw ? '1' : '0') : String(raw));
    if (v instanceof FieldProblem) errors.push({ field: c.name, message: v.reason });
    else values[c.name] = v;
  }
  // Cross-field rules once each field is valid. A broken rule is one error (so the CLI and batch list it once),
  // on the first column it reads, where the form shows it; its message names the rule and every column.
  const rules = errors.length === 0 ? compileRowRules(config) : null;
  if (rules) {
    const names = Object.keys(config.dataset.columns);
    const broken = rules.check(names.map((n) => values[n] ?? null));
    for (const b of broken ?? []) errors.push({ field: b.columns[0], message: b.reason });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, values };
}
