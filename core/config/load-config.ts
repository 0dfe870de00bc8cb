import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { LineCounter, parseDocument, isNode } from 'yaml';
import type { z } from 'zod';
import { AppraiseError } from '../common/errors.js';
import { quoteForMessage } from '../common/quote-for-message.js';
import { datasetConfigSchema, type DatasetConfig, type ColumnType } from './dataset-config.schema.js';
import { withoutDisplayKeys } from './display-keys.js';
import { ruleProblems } from './config-rules.js';

export interface ConfigProblem {
  /** Dotted YAML path, e.g. `dataset.columns.price.min`. */
  path: string;
  /** 1-based line in the YAML file, when known. */
  line?: number;
  message: string;
}

export interface LoadedConfig {
  config: DatasetConfig;
  /** sha256 of the canonical JSON of the validated config without its display-only keys (display-keys.ts): identifies the schema a dataset was read with. */
  hash: string;
  source: string;
}

/** Reads and validates a YAML configuration file. Throws INVALID_CONFIG listing every problem with its line. */
export function loadConfigFile(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new AppraiseError('INVALID_INPUT', `cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, source = '<config>'): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => ({
      path: '',
      line: e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line,
      message: `YAML syntax: ${capped(e.message.split('\n')[0])}`,
    }));
    throw configError(source, problems);
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 50 });
  } catch (e) {
    // The yaml library refuses alias bombs (and other documents it cannot build) with a plain ReferenceError:
    // that is the config's fault, not a bug (issue 14, #8).
    const why =
      e instanceof Error && /alias/i.test(e.message)
        ? 'it expands aliases (*name) too many times; write the values out instead of repeating aliases'
        : `it cannot be read: ${capped(e instanceof Error ? e.message : String(e))}`;
    throw configError(source, [{ path: '', message: `YAML: ${why}` }]);
  }
  const parsed = datasetConfigSchema.safeParse(raw, { reportInput: true });
  const lineOf = (path: (string | number)[]): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  if (!parsed.success) {
    throw configError(
      source,
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), line: lineOf(i.path as (string | number)[]), message: describeIssue(i) })),
    );
  }
  const config = parsed.data;
  const problems = crossCheck(config).map((p) => ({ ...p, line: lineOf(p.path.split('.')) }));
  if (problems.length > 0) throw configError(source, problems);
  const hash = createHash('sha256')
    .update(canonicalJson(withoutDisplayKeys(config)))
    .digest('hex');
  return { config, hash, source };
}

function configError(source: string, problems: ConfigProblem[]): AppraiseError {
  const lines = problems.map((p) => `  ${p.line ? `line ${p.line}: ` : ''}${p.path ? `${p.path}: ` : ''}${p.message}`);
  return new AppraiseError('INVALID_CONFIG', `${source} is not a valid Appraise config:\n${lines.join('\n')}`, { details: problems });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    const got = 'input' in issue ? issue.input : undefined;
    if (got === undefined) return `required: expected ${issue.expected}`;
    // The value is quoted only in part: a config path pointing at any other file put all of it here (issue 14, #5).
    return `expected ${article(issue.expected)}, got ${quoteForMessage(got)}`;
  }
  if (issue.code === 'unrecognized_keys')
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (check the spelling; see docs/config.md)`;
  if (issue.code === 'invalid_key') {
    // zod's own text is only "Invalid key in record": say which name and what a name may be.
    const inner = [...new Set(issue.issues.map((i) => i.message))].join('; ');
    return `the column name ${quoteForMessage(issue.input, 80)} is not allowed: ${inner}`;
  }
  if (issue.code === 'invalid_union' && 'discriminator' in issue) {
    return `unknown ${String(issue.discriminator)}; use one of the documented kinds (see docs/config.md)`;
  }
  return capped(issue.message);
}

/** A message of a validation rule, which may quote what it refused: kept to a sentence. */
function capped(message: string): string {
  return message.length > 300 ? `${message.slice(0, 300)}…` : message;
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/** Rules that involve more than one field: every reference must name a declared column of a fitting type. */
function crossCheck(config: DatasetConfig): { path: string; message: string }[] {
  const cols = config.dataset.columns;
  const problems: { path: string; message: string }[] = [];
  const names = Object.keys(cols);
  const need = (path: string, name: string, types?: ColumnType[]) => {
    const col = cols[name];
    if (!col) problems.push({ path, message: `"${name}" is not a declared column (declared: ${names.join(', ')})` });
    else if (types && !types.includes(col.type)) problems.push({ path, message: `"${name}" is ${col.type}; expected ${types.join(' or ')}` });
  };
  const numericTypes: ColumnType[] = ['numeric', 'integer', 'latitude', 'longitude', 'ordinal', 'boolean'];
  need('target.column', config.target.column, ['numeric', 'integer']);
  const f = config.features;
  f.include?.forEach((c, i) => need(`features.include.${i}`, c));
  f.exclude.forEach((c, i) => need(`features.exclude.${i}`, c));
  if (f.saleDate) need('features.saleDate', f.saleDate, ['date']);
  const derivedNames = new Set<string>();
  f.derived.forEach((d, i) => {
    const p = `features.derived.${i}`;
    if (cols[d.name] || derivedNames.has(d.name))
      problems.push({ path: `${p}.name`, message: `"${d.name}" is already a column or derived feature; pick another name` });
    derivedNames.add(d.name);
    // A feature computed from the price would hand the answer to the model (and is unknown when valuing).
    const inputs = Object.entries(d).filter(([k]) => k !== 'kind' && k !== 'name' && k !== 'origin');
    for (const [k, v] of inputs) {
      if (v === config.target.column)
        problems.push({ path: `${p}.${k}`, message: `"${v}" is the target; a feature cannot be computed from the price it predicts` });
    }
    switch (d.kind) {
      case 'years_between':
        need(`${p}.fromYear`, d.fromYear, ['integer', 'numeric']);
        need(`${p}.toDate`, d.toDate, ['date']);
        break;
      case 'years_since':
        need(`${p}.eventYear`, d.eventYear, ['integer', 'numeric']);
        if (d.fallbackYear) need(`${p}.fallbackYear`, d.fallbackYear, ['integer', 'numeric']);
        need(`${p}.atDate`, d.atDate, ['date']);
        break;
      case 'month_index':
        need(`${p}.date`, d.date, ['date']);
        break;
      case 'ratio':
        need(`${p}.numerator`, d.numerator, numericTypes);
        need(`${p}.denominator`, d.denominator, numericTypes);
        break;
    }
  });
  const cmp = config.comparables;
  if (cmp) {
    cmp.attributes.forEach((c, i) => need(`comparables.attributes.${i}`, c, numericTypes));
    if (cmp.latitude) need('comparables.latitude', cmp.latitude, ['latitude', 'numeric']);
    if (cmp.longitude) need('comparables.longitude', cmp.longitude, ['longitude', 'numeric']);
  }
  problems.push(...columnNameClashes(config));
  problems.push(...ruleProblems(config));
  for (const [name, col] of Object.entries(cols)) {
    if ('min' in col && 'max' in col && col.min !== undefined && col.max !== undefined && col.min > col.max) {
      problems.push({ path: `dataset.columns.${name}.min`, message: `min (${col.min}) is greater than max (${col.max})` });
    }
  }
  return problems;
}

/** Columns of the dataset table that are not config columns (see `SqliteDatasetStore`). */
const RESERVED_COLUMNS = ['_row', '_fp'];

/**
 * Names that would collide once stored or matched: SQLite compares column names case-insensitively, and two
 * columns cannot read the same header text.
 */
function columnNameClashes(config: DatasetConfig): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const byFolded = new Map<string, string>();
  const byHeader = new Map<string, string>();
  for (const [name, col] of Object.entries(config.dataset.columns)) {
    const path = `dataset.columns.${name}`;
    const folded = name.toLowerCase();
    if (RESERVED_COLUMNS.includes(folded)) {
      problems.push({ path, message: `"${name}" is reserved for the workspace's own bookkeeping; name the column otherwise and set source: "${name}"` });
    }
    const other = byFolded.get(folded);
    if (other !== undefined) {
      problems.push({
        path,
        message: `"${name}" and "${other}" differ only in upper/lower case, which the workspace database cannot tell apart; rename one (and set source: to its header)`,
      });
    } else byFolded.set(folded, name);
    const header = col.source ?? name;
    const reader = byHeader.get(header);
    if (reader !== undefined)
      problems.push({ path: col.source ? `${path}.source` : path, message: `the header "${header}" is already read by column "${reader}"` });
    else byHeader.set(header, name);
  }
  return problems;
}

/** JSON with object keys sorted, so equal configs hash equally whatever the key order in the YAML. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
