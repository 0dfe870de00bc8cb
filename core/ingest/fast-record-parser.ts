import type { DatasetConfig } from '../config/dataset-config.schema.js';
import { FieldProblem, missingTokens, rangeDefaults, type ColumnParser, type NormalizedValue } from '../schema/column-parser.js';
import type { RowValidator } from '../schema/row-validator.js';
import type { RowRules } from '../schema/row-rules.js';
import type { RowBatch, TextColumnEncoder } from './row-batch.js';
import type { RowEncoder } from './row-encoder.js';

/** How a column's fields are read on the fast path. */
const NUMBER = 0; // plain decimal numbers parsed from the characters
const MEMO = 1; // few distinct texts (dates, categories, levels, yes/no): the compiled parser's answer is remembered
const TEXT = 2; // anything else: the compiled parser on the field's text

/** 10^k for the decimal places of a fast-path number: all exact doubles (k ≤ 22). */
const POW10 = Array.from({ length: 16 }, (_, k) => 10 ** k);

/**
 * The ingest hot path for the common record: no quotes, every field plain and valid. It reads the fields straight
 * from the decoded text — numbers digit by digit, repeated texts from a per-column memo of the compiled parser's
 * answers — into the batch's typed columns and the row encoder, with no string per field and no array per row
 * (field splitting and number strings were the largest garbage source, measured).
 *
 * It only ever accepts: a record with the wrong field count, a field it does not recognise (spaces, signs,
 * exponents, more than 15 digits…) or any invalid value makes `parse` return -1 having stored nothing, and the
 * caller runs the general validator, which gives every reason. So its results are the compiled parsers' results,
 * by construction: numbers are exact because a mantissa below 2^53 divided by an exact power of ten is one
 * correctly rounded operation, which is what `+text` gives.
 */
export class FastRecordParser {
  private readonly n: number;
  private readonly kind: Int8Array;
  private readonly source: Int32Array;
  private readonly min: Float64Array;
  private readonly max: Float64Array;
  private readonly integer: Uint8Array;
  private readonly required: Uint8Array;
  private readonly missing: string[][];
  private readonly longestMissing: Int32Array;
  private readonly parsers: ColumnParser[];
  private readonly memos: (FieldMemo | null)[];
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly fields: number;
  private readonly delimCode: number;
  /** The config's cross-field rules and the row's values for them; null when the config has no rules. */
  private readonly rules: RowRules | null;
  private readonly ruleValues: NormalizedValue[] | null;

  /** `texts`: per column, the encoder of its text values (null for columns stored as numbers). */
  constructor(
    validator: RowValidator,
    config: DatasetConfig,
    private readonly texts: (TextColumnEncoder | null)[],
  ) {
    const cols = validator.columns;
    this.n = cols.length;
    this.kind = new Int8Array(
      cols.map((c) => (['numeric', 'integer', 'latitude', 'longitude'].includes(c.config.type) ? NUMBER : c.config.type === 'identifier' ? TEXT : MEMO)),
    );
    this.source = Int32Array.from(validator.sourceIndex);
    this.min = Float64Array.from(cols.map((c) => rangeDefaults(c.config).min));
    this.max = Float64Array.from(cols.map((c) => rangeDefaults(c.config).max));
    this.integer = Uint8Array.from(cols.map((c) => (c.config.type === 'integer' ? 1 : 0)));
    this.required = Uint8Array.from(cols.map((c) => (c.config.required ? 1 : 0)));
    this.missing = cols.map((c) => missingTokens(c.config, config.dataset.missing));
    this.longestMissing = Int32Array.from(this.missing.map((m) => Math.max(-1, ...m.map((t) => t.length))));
    this.parsers = validator.parsers;
    this.memos = cols.map((_, c) => (this.kind[c] === MEMO ? new FieldMemo() : null));
    this.fields = validator.headerLength;
    this.starts = new Int32Array(this.fields);
    this.ends = new Int32Array(this.fields);
    this.delimCode = config.dataset.delimiter.charCodeAt(0);
    this.rules = validator.rules;
    this.ruleValues = this.rules ? new Array<NormalizedValue>(this.n).fill(null) : null;
  }

  /**
   * Parses the quote-free record `text[start, end)` into row `r` of `batch` and appends it to `encoder`.
   * Returns the row's fingerprint, or -1 when the general path must handle the record.
   */
  parse(text: string, start: number, end: number, batch: RowBatch, r: number, encoder: RowEncoder, rowIndex: number): number {
    const starts = this.starts;
    const ends = this.ends;
    const nFields = this.fields;
    // One pass of charCodeAt over the record rather than an indexOf call per field: a KC row's ~100 characters
    // cost less than its 21 builtin calls (measured).
    const delim = this.delimCode;
    let f = 0;
    starts[0] = start;
    for (let i = start; i < end; i++) {
      if (text.charCodeAt(i) !== delim) continue;
      if (f === nFields - 1) return -1; // more fields than the header
      ends[f++] = i;
      starts[f] = i + 1;
    }
    ends[f++] = end;
    if (f !== nFields) return -1;

    encoder.beginRow(rowIndex, this.n);
    for (let c = 0; c < this.n; c++) {
      const numbers = batch.numbers[c];
      const src = this.source[c];
      if (src === -1) {
        this.store(batch, numbers, c, r, null, encoder);
        continue;
      }
      const s = starts[src];
      const e = ends[src];
      const len = e - s;
      if (len > 0 && (text.charCodeAt(s) <= 32 || text.charCodeAt(e - 1) <= 32)) return this.fail(encoder); // needs trimming
      if (len <= this.longestMissing[c] && this.isMissing(c, text, s, e)) {
        if (this.required[c] === 1) return this.fail(encoder);
        this.store(batch, numbers, c, r, null, encoder);
        continue;
      }
      const kind = this.kind[c];
      if (kind === NUMBER) {
        const v = parseDecimal(text, s, e);
        if (v !== v || v < this.min[c] || v > this.max[c] || (this.integer[c] === 1 && !Number.isInteger(v))) return this.fail(encoder);
        numbers![r] = v;
        encoder.addNumber(v);
        if (this.ruleValues !== null) this.ruleValues[c] = v;
        continue;
      }
      let v: NormalizedValue | FieldProblem;
      const memo = this.memos[c];
      if (memo !== null && memo.enabled) {
        const hit = memo.find(text, s, e);
        if (hit !== -1) {
          v = memo.values[hit];
          const code = memo.codes[hit];
          // A text already in the column's dictionary: its code straight from the memo, no dictionary lookup
          // (that lookup, a string hash per cell, was ~5 % of the reader thread; measured).
          if (code >= 0) {
            encoder.addText(v as string);
            if (this.ruleValues !== null) this.ruleValues[c] = v;
            batch.texts[c]!.codes[r] = code;
            continue;
          }
          this.store(batch, numbers, c, r, v, encoder);
          if (numbers === null && v !== null) memo.codes[hit] = Math.max(-1, batch.texts[c]!.codes[r]);
          continue;
        }
        const key = text.slice(s, e);
        v = this.parsers[c](key);
        if (v instanceof FieldProblem) return this.fail(encoder);
        const k = memo.add(key, v);
        this.store(batch, numbers, c, r, v, encoder);
        if (k !== -1 && numbers === null && v !== null) memo.codes[k] = Math.max(-1, batch.texts[c]!.codes[r]);
        continue;
      }
      v = this.parsers[c](text.slice(s, e));
      if (v instanceof FieldProblem) return this.fail(encoder);
      this.store(batch, numbers, c, r, v, encoder);
    }
    // A row that breaks a rule goes to the general path, which says which rule in its quarantine reason.
    if (this.rules !== null && this.rules.check(this.ruleValues!) !== null) return this.fail(encoder);
    return encoder.endRow();
  }

  private fail(encoder: RowEncoder): number {
    encoder.abandonRow();
    return -1;
  }

  private store(batch: RowBatch, numbers: Float64Array | null, c: number, r: number, v: NormalizedValue, encoder: RowEncoder): void {
    if (v === null) encoder.addMissing();
    else if (typeof v === 'number') encoder.addNumber(v);
    else encoder.addText(v);
    if (this.ruleValues !== null) this.ruleValues[c] = v;
    if (numbers !== null) numbers[r] = v === null ? NaN : (v as number);
    else this.texts[c]!.set(batch.texts[c]!, r, v as string | null);
  }

  private isMissing(c: number, text: string, s: number, e: number): boolean {
    const len = e - s;
    for (const t of this.missing[c]) {
      if (t.length !== len) continue;
      let i = 0;
      while (i < len && t.charCodeAt(i) === text.charCodeAt(s + i)) i++;
      if (i === len) return true;
    }
    return false;
  }
}

/**
 * `-?digits[.digits]`, else NaN (the caller then takes the general path, which knows exponents, signs, spaces).
 * Up to 15 digits the value is computed here; longer ones (float noise such as 47.56100000000001 is common) are
 * read by `+text`, the general parser's own conversion, on the already checked plain-decimal text.
 */
export function parseDecimal(text: string, s: number, e: number): number {
  let i = s;
  const neg = text.charCodeAt(i) === 45;
  if (neg) i++;
  let m = 0;
  let digits = 0;
  let dot = -1;
  const first = i;
  for (; i < e; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d >= 0 && d <= 9) {
      m = m * 10 + d;
      digits++;
    } else if (d === -2 && dot === -1) dot = i;
    else return NaN;
  }
  if (digits === 0) return NaN;
  if (dot !== -1 && (dot === first || dot === e - 1)) return NaN; // ".5" and "5." are left to the general path
  if (digits > 15) return +text.slice(s, e);
  let v = m;
  if (dot !== -1) v = m / POW10[e - 1 - dot];
  return neg ? -v : v;
}

/**
 * Remembers a column's parsed values by their exact text (open addressing over char codes, no string built to
 * look one up). Bounded; turns itself off for columns whose texts rarely repeat, where it would only cost.
 */
class FieldMemo {
  private static readonly CAP = 2048;
  private readonly slots = new Int32Array(FieldMemo.CAP * 2).fill(-1);
  private readonly mask = FieldMemo.CAP * 2 - 1;
  private readonly keys: string[] = [];
  readonly values: NormalizedValue[] = [];
  /**
   * Per entry, its value's code in the column's text dictionary (`TextColumnEncoder`), once the encoder gave it
   * one; -1 until then, and for good when the value is stored as a number, is missing or went in as a literal.
   */
  readonly codes = new Int32Array(FieldMemo.CAP).fill(-1);
  private lookups = 0;
  private misses = 0;
  enabled = true;

  find(text: string, s: number, e: number): number {
    this.lookups++;
    let i = hashChars(text, s, e) & this.mask;
    for (;;) {
      const k = this.slots[i];
      if (k === -1) break;
      const key = this.keys[k];
      if (key.length === e - s) {
        let j = 0;
        while (j < key.length && key.charCodeAt(j) === text.charCodeAt(s + j)) j++;
        if (j === key.length) return k;
      }
      i = (i + 1) & this.mask;
    }
    this.misses++;
    if (this.lookups >= 4096 && this.misses * 4 > this.lookups) this.enabled = false;
    return -1;
  }

  /** Remembers `key`'s value; returns its entry, or -1 when the memo is full. */
  add(key: string, value: NormalizedValue): number {
    if (this.keys.length >= FieldMemo.CAP) return -1;
    let i = hashChars(key, 0, key.length) & this.mask;
    while (this.slots[i] !== -1) i = (i + 1) & this.mask;
    this.slots[i] = this.keys.length;
    this.keys.push(key);
    this.values.push(value);
    return this.keys.length - 1;
  }
}

function hashChars(text: string, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let i = s; i < e; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h ^ (h >>> 15)) >>> 0;
}
