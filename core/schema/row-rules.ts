import type { DatasetConfig, RuleConfig } from '../config/dataset-config.schema.js';
import { compileRule, type CompiledRule } from '../config/rule-expression.js';
import type { NormalizedValue } from './column-parser.js';

/** A rule a row or property breaks: its name, the columns it reads, and the sentence that says so. */
export interface BrokenRule {
  rule: string;
  columns: string[];
  reason: string;
}

/**
 * The config's cross-field rules compiled against one column order (the schema's), for ingest, batch scoring
 * and the valuation form alike. Only a rule that is definitely false is broken: one that reads a missing value is
 * unknown and passes (see rule-expression.ts). Null from `compileRowRules` when the config has no rules, so the
 * callers' hot paths stay as they are.
 */
export class RowRules {
  private readonly compiled: { config: RuleConfig; rule: CompiledRule; positions: number[] }[];

  constructor(rules: RuleConfig[], columnNames: string[]) {
    this.compiled = rules.map((config) => {
      // The loader has checked the syntax and that every column exists.
      const rule = compileRule(config.check);
      return { config, rule, positions: rule.columns.map((c) => columnNames.indexOf(c)) };
    });
  }

  /** The rules broken by the row `values[offset …]` (values in the schema's column order), or null. */
  check(values: ArrayLike<NormalizedValue | undefined>, offset = 0): BrokenRule[] | null {
    let broken: BrokenRule[] | null = null;
    for (const { config, rule, positions } of this.compiled) {
      const at = (c: string): NormalizedValue | undefined => {
        const p = positions[rule.columns.indexOf(c)];
        return p < 0 ? undefined : values[offset + p];
      };
      if (rule.evaluate(at) === false) (broken ??= []).push(describe(config, rule, at));
    }
    return broken;
  }
}

/** "breaks rule renovated_after_built (renovated before it was built): yr_renovated 1950, yr_built 1960". */
function describe(config: RuleConfig, rule: CompiledRule, at: (c: string) => NormalizedValue | undefined): BrokenRule {
  const shown = rule.columns.map((c) => `${c} ${String(at(c) ?? 'missing')}`).join(', ');
  return { rule: config.name, columns: rule.columns, reason: `breaks rule ${config.name} (${config.message ?? config.check}): ${shown}` };
}

// Compiled once per config object: the form validates on every keystroke.
const cache = new WeakMap<DatasetConfig, RowRules | null>();

/** The config's rules over its schema's column order, or null when it has none. */
export function compileRowRules(config: DatasetConfig): RowRules | null {
  if (cache.has(config)) return cache.get(config)!;
  const rules = config.rules && config.rules.length > 0 ? new RowRules(config.rules, Object.keys(config.dataset.columns)) : null;
  cache.set(config, rules);
  return rules;
}
