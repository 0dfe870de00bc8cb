import { test, expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, parseConfig } from './load-config.js';
import { AppraiseError } from '../common/errors.js';

const kc = fileURLToPath(new URL('../../config/king-county.yaml', import.meta.url));

function problemsOf(yaml: string): string {
  try {
    parseConfig(yaml, 'test.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(AppraiseError);
    expect((e as AppraiseError).code).toBe('INVALID_CONFIG');
    return (e as AppraiseError).message;
  }
  throw new Error('config was accepted');
}

const minimal = (columns: string, extra = '') => `version: 1
name: t
dataset:
  columns:
${columns}
target: { column: price }
${extra}`;

test('the bundled King County config loads, with defaults filled in and a stable hash', () => {
  const a = loadConfigFile(kc);
  expect(a.config.target).toEqual({ column: 'price', transform: 'log' });
  expect(a.config.dataset.columns.zipcode.type).toBe('categorical');
  expect(a.config.features.derived.map((d) => d.name)).toEqual(['age_at_sale', 'years_since_renovation', 'sale_month']);
  expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
  expect(loadConfigFile(kc).hash).toBe(a.hash);
});

test('a wrong type names the YAML path, the line, what was expected and what was found', () => {
  const msg = problemsOf(minimal('    price: { type: numeric }\n    sqft_living: { type: numeric, min: abc }'));
  expect(msg).toContain('line 6: dataset.columns.sqft_living.min: expected a number, got "abc"');
});

test('unknown keys and unknown column types are refused with a hint', () => {
  expect(problemsOf(minimal('    price: { type: numeric, maximum: 3 }'))).toMatch(/dataset\.columns\.price: unknown key "maximum"/);
  expect(problemsOf(minimal('    price: { type: money }'))).toMatch(/dataset\.columns\.price\.type/);
});

test('references must name declared columns of a fitting type', () => {
  const msg = problemsOf(
    minimal(
      '    price: { type: numeric }\n    d: { type: categorical }',
      'features:\n  derived:\n    - { kind: month_index, name: m, date: d, origin: "2014-01" }\n    - { kind: ratio, name: r, numerator: nope, denominator: price }',
    ),
  );
  expect(msg).toContain('features.derived.0.date: "d" is categorical; expected date');
  expect(msg).toContain('features.derived.1.numerator: "nope" is not a declared column');
});

test('the target must be a declared numeric column, and min cannot exceed max', () => {
  expect(problemsOf(minimal('    amount: { type: numeric }'))).toContain('target.column: "price" is not a declared column');
  expect(problemsOf(minimal('    price: { type: numeric, min: 10, max: 1 }'))).toContain('min (10) is greater than max (1)');
});

test('YAML syntax errors give the line', () => {
  expect(problemsOf('version: 1\nname: [unclosed\n')).toMatch(/line \d+: YAML syntax/);
});
