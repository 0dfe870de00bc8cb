import { test, expect } from 'vitest';
import { compileColumnParser, FieldProblem } from './column-parser.js';
import { columnSchema } from '../config/dataset-config.schema.js';

const parser = (col: Record<string, unknown>, missing = ['', '?']) => compileColumnParser('x', columnSchema.parse(col), missing);
const reason = (v: unknown) => (v instanceof FieldProblem ? v.reason : `accepted ${JSON.stringify(v)}`);

test('numbers: strict syntax, ranges, huge values, missing tokens', () => {
  const p = parser({ type: 'numeric', min: 0, max: 1e7 });
  expect(p('221900.0')).toBe(221900);
  expect(p(' 42 ')).toBe(42);
  expect(reason(p('12O000'))).toBe('x: "12O000" is not a number');
  expect(reason(p('0x1A'))).toBe('x: "0x1A" is not a number');
  expect(reason(p('1e400'))).toBe('x: "1e400" is too large to represent');
  expect(reason(p('-5'))).toBe('x: -5 is out of range [0, 10000000]');
  expect(p('?')).toBeNull();
  expect(reason(parser({ type: 'numeric', required: true })(''))).toBe('x: value is required');
});

test('integers accept 3.0 and refuse 3.5', () => {
  const p = parser({ type: 'integer' });
  expect(p('1991.0')).toBe(1991);
  expect(reason(p('3.5'))).toBe('x: "3.5" is not a whole number');
});

test('latitude and longitude have natural default ranges', () => {
  expect(reason(parser({ type: 'latitude' })('91'))).toContain('out of range [-90, 90]');
  expect(parser({ type: 'longitude' })('-122.257')).toBe(-122.257);
});

test('ordinal levels match numerically or by text', () => {
  const p = parser({ type: 'ordinal', levels: [0, 1, 2, 3, 4] });
  expect(p('3.0')).toBe('3');
  expect(reason(p('7'))).toContain('is not one of the levels 0, 1, 2, 3, 4');
  const q = parser({ type: 'ordinal', levels: ['poor', 'fair', 'good'] });
  expect(q('Good')).toBe('good');
});

test('booleans, categories and hostile text', () => {
  const b = parser({ type: 'boolean' });
  expect([b('1'), b('0.0'), b('Yes'), b('f')]).toEqual([1, 0, 1, 0]);
  const c = parser({ type: 'categorical' });
  expect(c('98178')).toBe('98178');
  // Text that a spreadsheet would run as a formula is data: kept as given here, neutralised on export.
  expect(c("=cmd|' /C calc'!A0")).toBe("=cmd|' /C calc'!A0");
  expect(c('@Realty')).toBe('@Realty');
  expect(parser({ type: 'identifier' })('+1 see notes')).toBe('+1 see notes');
  expect(c('-5')).toBe('-5');
  expect(reason(c('a\u0007b'))).toContain('control characters');
  expect(reason(c('z'.repeat(300)))).toContain('longer than 256');
  expect(reason(parser({ type: 'categorical', values: ['a', 'b'] })('c'))).toContain('not an allowed value');
});

test('dates in several formats become ISO and impossible dates are refused', () => {
  expect(parser({ type: 'date', format: 'M/D/YYYY' })('10/13/2014')).toBe('2014-10-13');
  expect(parser({ type: 'date', format: 'DD.MM.YYYY' })('02.03.2015')).toBe('2015-03-02');
  expect(parser({ type: 'date', format: "YYYYMMDD'T'000000" })('20141013T000000')).toBe('2014-10-13');
  expect(reason(parser({ type: 'date', format: 'M/D/YYYY' })('2/30/2015'))).toContain('is not a date in the format M/D/YYYY');
  expect(reason(parser({ type: 'date', format: 'YYYY-MM-DD', min: '2000-01-01' })('1999-12-31'))).toContain('outside');
});
