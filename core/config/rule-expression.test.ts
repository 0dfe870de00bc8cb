import { describe, expect, it } from 'vitest';
import { compileRule, RuleSyntaxError, type RuleValue } from './rule-expression.js';

const row =
  (values: Record<string, RuleValue>) =>
  (c: string): RuleValue | undefined =>
    values[c];

describe('cross-field rule expressions', () => {
  it('evaluates comparisons, arithmetic and boolean logic', () => {
    const above = compileRule('sqft_above <= sqft_living');
    expect(above.columns).toEqual(['sqft_above', 'sqft_living']);
    expect(above.evaluate(row({ sqft_above: 2170, sqft_living: 2570 }))).toBe(true);
    expect(above.evaluate(row({ sqft_above: 2600, sqft_living: 2570 }))).toBe(false);
    const renovated = compileRule('yr_renovated == 0 or yr_renovated >= yr_built');
    expect(renovated.evaluate(row({ yr_renovated: 0, yr_built: 1951 }))).toBe(true);
    expect(renovated.evaluate(row({ yr_renovated: 1991, yr_built: 1951 }))).toBe(true);
    expect(renovated.evaluate(row({ yr_renovated: 1940, yr_built: 1951 }))).toBe(false);
    const sum = compileRule('sqft_above + sqft_basement == sqft_living and not (floors > 3 * 2 - 1)');
    expect(sum.evaluate(row({ sqft_above: 2170, sqft_basement: 400, sqft_living: 2570, floors: 2 }))).toBe(true);
    expect(sum.evaluate(row({ sqft_above: 2170, sqft_basement: 400, sqft_living: 2570, floors: 6 }))).toBe(false);
    expect(compileRule('-x < 0').evaluate(row({ x: 3 }))).toBe(true);
    expect(compileRule('a / b >= 0.5').evaluate(row({ a: 1, b: 2 }))).toBe(true);
  });

  it('compares text with text (ISO dates order as text), and "or" binds looser than "and"', () => {
    expect(compileRule("kind != 'condo' or floors <= 40").evaluate(row({ kind: 'house', floors: 80 }))).toBe(true);
    expect(compileRule('sold >= "2014-05-01"').evaluate(row({ sold: '2014-04-30' }))).toBe(false);
    // a or b and c  ==  a or (b and c)
    expect(compileRule('a == 1 or b == 1 and c == 1').evaluate(row({ a: 1, b: 0, c: 0 }))).toBe(true);
    expect(compileRule('(a == 1 or b == 1) and c == 1').evaluate(row({ a: 1, b: 0, c: 0 }))).toBe(false);
  });

  it('is unknown, not broken, when a value it reads is missing or of the wrong kind (as SQL CHECK)', () => {
    const renovated = compileRule('yr_renovated == 0 or yr_renovated >= yr_built');
    expect(renovated.evaluate(row({ yr_renovated: 1940, yr_built: null }))).toBeNull();
    expect(renovated.evaluate(row({ yr_renovated: 1940 }))).toBeNull();
    // "or" with one true side is true whatever the other; "and" with one false side is false.
    expect(renovated.evaluate(row({ yr_renovated: 0 }))).toBe(true);
    expect(compileRule('a > 1 and b > 1').evaluate(row({ a: 0 }))).toBe(false);
    expect(compileRule('a < 5').evaluate(row({ a: 'five' }))).toBeNull();
    expect(compileRule('a / b > 1').evaluate(row({ a: 1, b: 0 }))).toBeNull();
  });

  it('refuses what is not a rule, saying where, and never runs code', () => {
    const bad = (src: string) => {
      try {
        compileRule(src);
      } catch (e) {
        expect(e).toBeInstanceOf(RuleSyntaxError);
        return (e as RuleSyntaxError).message;
      }
      throw new Error(`"${src}" was accepted`);
    };
    expect(bad('sqft_above = sqft_living')).toMatch(/use ==/);
    expect(bad('sqft_above <=')).toMatch(/ends where a value is expected/);
    expect(bad('(a < b')).toMatch(/not closed/);
    expect(bad('a < b < c')).toMatch(/chain comparisons with "and"/);
    expect(bad('sqft_living')).toMatch(/must be a comparison/);
    expect(bad('process.exit(1) == 0')).toMatch(/"\." does not start a number|not part of the rule language/);
    expect(bad('a[0] == 1')).toMatch(/not part of the rule language/);
    expect(bad(`${'('.repeat(40)}a == 1${')'.repeat(40)}`)).toMatch(/nests more than/);
    expect(bad('x'.repeat(501))).toMatch(/at most 500 characters/);
    // Names that mean something to JavaScript are just (missing) columns here.
    expect(compileRule('constructor == 1').evaluate(row({}))).toBeNull();
  });
});
