import { expect, test } from 'vitest';
import { productNames } from './score-to-file.js';

// The batch CSV's own columns never take the name of an input column (docs/cli.md, "The `score` output").
const product = ['line', 'estimate', 'error'];

test('the product columns are prefixed appraise_ when no input column is named so', () => {
  expect(productNames(['id', 'estimate', 'error', 'line'], product)).toEqual(['appraise_line', 'appraise_estimate', 'appraise_error']);
});

test('an input column named like a product column (any case, surrounding spaces) lengthens the prefix', () => {
  expect(productNames(['id', ' Appraise_Estimate '], product)).toEqual(['appraise__line', 'appraise__estimate', 'appraise__error']);
  // Until nothing clashes: the file already holds the output of an earlier run with the longer prefix too.
  const twice = ['appraise_line', 'appraise__error', 'price'];
  const names = productNames(twice, product);
  expect(names).toEqual(['appraise___line', 'appraise___estimate', 'appraise___error']);
  const taken = new Set(twice.map((h) => h.toLowerCase()));
  for (const n of names) expect(taken.has(n)).toBe(false);
});
