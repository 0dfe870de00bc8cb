import type { ColumnConfig } from '../config/dataset-config.schema.js';
import { compileDateFormat } from './date-format.js';

/**
 * Turns one raw text field into its normalized value, or says exactly why it cannot.
 *
 * The same parsers read CSV rows at ingest and the fields a person types into the valuation form, so the two
 * can never disagree. Normalized values: numbers for numeric/integer/latitude/longitude and boolean (0/1),
 * strings for categorical and identifier, the canonical level text for ordinal, ISO `YYYY-MM-DD` for dates,
 * and `null` for missing.
 */
export type NormalizedValue = number | string | null;

/** A parse failure; a class (not a thrown error) because bad rows are normal input and must stay cheap. */
export class FieldProblem {
  constructor(
    /** Stable category for counting: `required`, `type`, `range`, `level`, `text`. */
    readonly kind: ProblemKind,
    /** Human sentence naming the column, the value and what is wrong. */
    readonly reason: string,
  ) {}
}

export type ProblemKind = 'required' | 'type' | 'range' | 'level' | 'text';

export type ColumnParser = (raw: string) => NormalizedValue | FieldProblem;

/** Storage class of the normalized value in SQLite. */
export function sqliteTypeOf(col: ColumnConfig): 'REAL' | 'INTEGER' | 'TEXT' {
  switch (col.type) {
    case 'numeric':
    case 'latitude':
    case 'longitude':
      return 'REAL';
    case 'integer':
    case 'boolean':
      return 'INTEGER';
    default:
      return 'TEXT';
  }
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const MAX_TEXT = 256;
const CONTROL_RE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function isRadixLiteral(s: string): boolean {
  const c = s.charCodeAt(1) | 0x20; // lower-case
  return s.length > 2 && (c === 0x78 || c === 0x62 || c === 0x6f) && s.charCodeAt(0) === 0x30; // 0x 0b 0o
}

function show(raw: string): string {
  return JSON.stringify(raw.length > 60 ? `${raw.slice(0, 57)}...` : raw);
}

function trimIfNeeded(s: string): string {
  const n = s.length;
  return n > 0 && (s.charCodeAt(0) <= 32 || s.charCodeAt(n - 1) <= 32) ? s.trim() : s;
}

/** The texts that mean "no value" in a column (after trimming): the dataset's tokens plus the column's own. */
export function missingTokens(col: ColumnConfig, globalMissing: readonly string[]): string[] {
  return [...new Set([...globalMissing, ...(col.missing ?? [])].map((m) => m.trim()))];
}

export function compileColumnParser(name: string, col: ColumnConfig, globalMissing: readonly string[]): ColumnParser {
  const missing = new Set(missingTokens(col, globalMissing));
  // Most fields are longer than any missing token: skip the set lookup for them (ingest hot path).
  const longestMissing = Math.max(0, ...[...missing].map((m) => m.length));
  const required = col.required;
  const missingResult = required ? new FieldProblem('required', `${name}: value is required`) : null;
  const parse = compileValueParser(name, col);
  return (input) => {
    const s = trimIfNeeded(input);
    if (s.length <= longestMissing && missing.has(s)) return missingResult;
    return parse(s);
  };
}

/** The valid range of a numeric column: its own min/max, else the type's (latitude, longitude), else unbounded. */
export function rangeDefaults(col: ColumnConfig): { min: number; max: number } {
  const defaults = col.type === 'latitude' ? { min: -90, max: 90 } : col.type === 'longitude' ? { min: -180, max: 180 } : { min: -Infinity, max: Infinity };
  return {
    min: 'min' in col && typeof col.min === 'number' ? col.min : defaults.min,
    max: 'max' in col && typeof col.max === 'number' ? col.max : defaults.max,
  };
}

function compileValueParser(name: string, col: ColumnConfig): (s: string) => NormalizedValue | FieldProblem {
  switch (col.type) {
    case 'numeric':
    case 'latitude':
    case 'longitude':
    case 'integer': {
      const { min, max } = rangeDefaults(col);
      const integer = col.type === 'integer';
      const what = integer ? 'an integer' : 'a number';
      return (s) => {
        // Unary + is the fast parser, but it also accepts hex/binary/octal and "Infinity": refuse those.
        const v = +s;
        if (v !== v || isRadixLiteral(s) || (!Number.isFinite(v) && !NUMBER_RE.test(s))) return new FieldProblem('type', `${name}: ${show(s)} is not ${what}`);
        if (!Number.isFinite(v)) return new FieldProblem('range', `${name}: ${show(s)} is too large to represent`);
        if (integer && !Number.isInteger(v)) return new FieldProblem('type', `${name}: ${show(s)} is not a whole number`);
        if (v < min || v > max) return new FieldProblem('range', `${name}: ${s} is out of range [${min}, ${max}]`);
        return v;
      };
    }
    case 'boolean': {
      const t = new Set(col.trueValues.map((v) => v.toLowerCase()));
      const f = new Set(col.falseValues.map((v) => v.toLowerCase()));
      return (s) => {
        const k = s.toLowerCase();
        if (t.has(k)) return 1;
        if (f.has(k)) return 0;
        return new FieldProblem('type', `${name}: ${show(s)} is not a yes/no value (use ${[...t][0]} or ${[...f][0]})`);
      };
    }
    case 'ordinal': {
      const numericLevels = col.levels.every((l) => typeof l === 'number');
      const canonical = col.levels.map(String);
      const byText = new Map(canonical.map((l) => [l.toLowerCase(), l]));
      const byNumber = new Map(col.levels.map((l) => [Number(l), String(l)]));
      const list = canonical.length > 8 ? `${canonical.slice(0, 8).join(', ')}, …` : canonical.join(', ');
      return (s) => {
        const hit = numericLevels && NUMBER_RE.test(s) ? byNumber.get(Number(s)) : byText.get(s.toLowerCase());
        return hit ?? new FieldProblem('level', `${name}: ${show(s)} is not one of the levels ${list}`);
      };
    }
    case 'categorical': {
      const allowed = col.values ? new Set(col.values.map((v) => (col.ignoreCase ? String(v).toLowerCase() : String(v)))) : null;
      return (s) => {
        const problem = textProblem(name, s);
        if (problem) return problem;
        const v = col.ignoreCase ? s.toLowerCase() : s;
        if (allowed && !allowed.has(v)) return new FieldProblem('level', `${name}: ${show(s)} is not an allowed value`);
        return v;
      };
    }
    case 'identifier':
      return (s) => textProblem(name, s) ?? s;
    case 'date': {
      const parseDate = compileDateFormat(col.format);
      return (s) => {
        const iso = parseDate(s);
        if (iso === null) return new FieldProblem('type', `${name}: ${show(s)} is not a date in the format ${col.format}`);
        if ((col.min && iso < col.min) || (col.max && iso > col.max)) {
          return new FieldProblem('range', `${name}: ${iso} is outside [${col.min ?? '…'}, ${col.max ?? '…'}]`);
        }
        return iso;
      };
    }
  }
}

/**
 * Text that begins with = + - @ (an agency called "@Realty", a note "-see survey") is data and is stored as
 * given: spreadsheet formula injection (OWASP "CSV injection") is a danger of exports, and every export
 * neutralises such cells (`neutralizeCsvCell`). Control characters and oversized text are refused.
 */
function textProblem(name: string, s: string): FieldProblem | null {
  if (s.length > MAX_TEXT) return new FieldProblem('text', `${name}: text longer than ${MAX_TEXT} characters`);
  if (CONTROL_RE.test(s)) return new FieldProblem('text', `${name}: contains control characters`);
  return null;
}
