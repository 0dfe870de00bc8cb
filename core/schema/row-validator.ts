import type { DatasetConfig, ColumnConfig } from '../config/dataset-config.schema.js';
import { badFile } from '../common/errors.js';
import { compileColumnParser, FieldProblem, sqliteTypeOf, type ColumnParser, type NormalizedValue, type ProblemKind } from './column-parser.js';

export interface SchemaColumn {
  name: string;
  config: ColumnConfig;
  sqlType: 'REAL' | 'INTEGER' | 'TEXT';
}

/** The columns of a dataset version, in config order; stored with the dataset. */
export function schemaColumns(config: DatasetConfig): SchemaColumn[] {
  return Object.entries(config.dataset.columns).map(([name, col]) => ({ name, config: col, sqlType: sqliteTypeOf(col) }));
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
  const seen = new Map<string, number>();
  cleaned.forEach((h, i) => {
    if (h === '') return;
    if (seen.has(h)) throw badFile(`the header names column "${h}" twice (columns ${seen.get(h)! + 1} and ${i + 1}); rename one of them`);
    seen.set(h, i);
  });
  const cols = schemaColumns(config);
  const required = cols.filter((c) => c.config.required || c.name === config.target.column).map((c) => c.name);
  const missingRequired = required.filter((r) => !seen.has(r));
  if (missingRequired.length > 0) {
    const delimiterHint =
      cleaned.length === 1 && cols.length > 1
        ? ` The file has a single column — is the delimiter "${config.dataset.delimiter}" right, and is this a CSV file?`
        : '';
    throw badFile(
      `the file lacks required column${missingRequired.length > 1 ? 's' : ''} ${missingRequired.map((m) => `"${m}"`).join(', ')}; ` +
        `its header has: ${cleaned
          .slice(0, 30)
          .map((c) => `"${c.slice(0, 40)}"`)
          .join(', ')}${cleaned.length > 30 ? ', …' : ''}.${delimiterHint}`,
    );
  }
  const declared = new Set(cols.map((c) => c.name));
  const ignored = cleaned.filter((h) => h !== '' && !declared.has(h));
  if (config.dataset.extraColumns === 'error' && ignored.length > 0) {
    throw badFile(`the file has columns the config does not declare: ${ignored.join(', ')} (set dataset.extraColumns: ignore to skip them)`);
  }
  return {
    sourceIndex: cols.map((c) => seen.get(c.name) ?? -1),
    absentOptional: cols.filter((c) => !seen.has(c.name)).map((c) => c.name),
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
    if (!(schemaName in config.dataset.columns)) throw badFile(`column mapping: "${schemaName}" is not a column of the schema`);
    const i = cleaned.indexOf(fileName);
    if (i === -1) throw badFile(`column mapping: the file has no column "${fileName}" (it has: ${cleaned.slice(0, 30).join(', ')})`);
    if (used.has(fileName)) throw badFile(`column mapping: the file column "${fileName}" is mapped twice`);
    used.add(fileName);
    // A file column that already carries the schema name is displaced, so the mapped one wins.
    const clash = out.indexOf(schemaName);
    if (clash !== -1 && clash !== i) out[clash] = `${schemaName} (unmapped)`;
    out[i] = schemaName;
  }
  return out;
}

/** Problem counts per column and kind, for the quality report. */
export type ProblemCounts = Record<string, Partial<Record<ProblemKind | 'ragged', number>>>;

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

  constructor(config: DatasetConfig, header: string[]) {
    this.columns = schemaColumns(config);
    this.sourceIndex = mapHeader(config, header).sourceIndex;
    this.headerLength = header.length;
    this.parsers = this.columns.map((c) => compileColumnParser(c.name, c.config, config.dataset.missing));
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
    return reasons;
  }

  private count(column: string, kind: ProblemKind | 'ragged'): void {
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
    if (typeof raw === 'number' && !Number.isFinite(raw)) {
      errors.push({ field: c.name, message: `${c.name}: ${String(raw)} is not a finite number` });
      continue;
    }
    const v = parser(raw === undefined || raw === null ? '' : typeof raw === 'boolean' ? (raw ? '1' : '0') : String(raw));
    if (v instanceof FieldProblem) errors.push({ field: c.name, message: v.reason });
    else values[c.name] = v;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, values };
}
