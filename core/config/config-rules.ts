import type { DatasetConfig } from './dataset-config.schema.js';
import { compileRule, RuleSyntaxError } from './rule-expression.js';

/** Problems of a config's `rules:` section: syntax, unknown columns, repeated names. Used by the loader. */
export function ruleProblems(config: DatasetConfig): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const columns = new Set(Object.keys(config.dataset.columns));
  const names = new Set<string>();
  (config.rules ?? []).forEach((rule, i) => {
    const path = `rules.${i}`;
    if (names.has(rule.name)) problems.push({ path: `${path}.name`, message: `the rule name "${rule.name}" is used twice; give each rule its own` });
    names.add(rule.name);
    try {
      const compiled = compileRule(rule.check);
      for (const c of compiled.columns) {
        if (!columns.has(c))
          problems.push({ path: `${path}.check`, message: `"${c}" is not a column of dataset.columns (rules read columns, not derived features)` });
      }
    } catch (e) {
      if (!(e instanceof RuleSyntaxError)) throw e;
      problems.push({ path: `${path}.check`, message: `${e.message} (at character ${e.position + 1} of "${rule.check}")` });
    }
  });
  return problems;
}
