import { test, expect } from 'vitest';
import { parseConfig } from '../config/load-config.js';
import { RowValidator } from '../schema/row-validator.js';
import type { NormalizedValue } from '../schema/column-parser.js';
import { FastRecordParser, parseDecimal } from './fast-record-parser.js';
import { RowEncoder } from './row-encoder.js';
import { emptyBatch, isNumberColumn, TextColumnEncoder } from './row-batch.js';

test('plain decimals read digit by digit equal +text, to the last bit', () => {
  let seed = 12345;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('');
  const samples = ['0', '-0', '007', '2.5', '47.56100000000001', '-122.398', '99999999999999.9', '1234567890123456789', '0.000000000000001'];
  for (let i = 0; i < 20000; i++) {
    const int = digits(1 + Math.floor(rnd() * 9));
    const frac = rnd() < 0.7 ? `.${digits(1 + Math.floor(rnd() * 10))}` : '';
    samples.push(`${rnd() < 0.3 ? '-' : ''}${int}${frac}`);
  }
  for (const s of samples) expect(Object.is(parseDecimal(s, 0, s.length), +s)).toBe(true);
  // Everything else is left to the general parser.
  for (const s of ['', '-', '.5', '5.', '1e5', '+5', '0x10', '1,5', ' 5', '1.2.3', 'Infinity', '١٢']) expect(parseDecimal(s, 0, s.length)).toBeNaN();
});

const config = parseConfig(`
version: 1
name: t
dataset:
  missing: ["", "NA", "?"]
  columns:
    id: { type: identifier }
    price: { type: numeric, required: true, min: 1, max: 1000000 }
    beds: { type: integer, min: 0, max: 40 }
    lat: { type: latitude }
    day: { type: date, format: M/D/YYYY }
    zip: { type: categorical }
    view: { type: ordinal, levels: [0, 1, 2] }
    pool: { type: boolean }
target: { column: price }
`).config;
const header = ['price', 'id', 'lat', 'beds', 'day', 'zip', 'view', 'pool', 'ignored'];

test('the fast path accepts only what the validator accepts, with the same values and fingerprint', () => {
  const records = [
    '100,a1,47.5,3,5/21/2014,98001,1,true,x',
    '100,a1,47.5,3,5/21/2014,98001,1.0,false,x', // ordinal from a numeric spelling
    '250000.5,b-2,-12.25,0,12/1/2015,98002,,,', // missing optional values
    '1,NA,?,NA,,,NA,?,', // every missing token
    '-0,a,0,0,1/1/2000,z,0,yes,', // -0 is below min 1
    '100, a1,47.5,3,5/21/2014,98001,1,true,x', // spaces: general path trims
    '100,a1,47.5,3.5,5/21/2014,98001,1,true,x', // not an integer
    '100,a1,47.5,3,2/30/2014,98001,1,true,x', // no such day
    '1e3,a1,47.5,3,5/21/2014,98001,1,true,x', // exponent
    ',a1,47.5,3,5/21/2014,98001,1,true,x', // required price missing
    '100,a1,47.5,3,5/21/2014,98001,1,true', // one field short
    '100,a1,47.5,3,5/21/2014,98001,1,true,x,y', // one field long
    '100,a\u0001,47.5,3,5/21/2014,98001,1,true,x', // control character
    '100,a1,91,3,5/21/2014,98001,1,true,x', // latitude out of range
    '100,a1,47.56100000000001,41,5/21/2014,98001,7,true,x', // beds and view out of range
    '100,a1,47.56100000000001,40,5/21/2014,98001,2,maybe,x',
  ];
  const fastValidator = new RowValidator(config, header);
  const slowValidator = new RowValidator(config, header);
  const texts = fastValidator.columns.map((c) => (isNumberColumn(c) ? null : new TextColumnEncoder(c.config.type !== 'identifier')));
  const fast = new FastRecordParser(fastValidator, config, texts);
  const fastEncoder = new RowEncoder();
  const slowEncoder = new RowEncoder();
  const batch = emptyBatch(fastValidator.columns, 4);
  const row: NormalizedValue[] = [];
  let accepted = 0;
  for (let pass = 0; pass < 2; pass++) {
    // Twice: the second time the memoized texts answer.
    records.forEach((rec, i) => {
      const text = `junk\n${rec}\nmore`;
      const fp = fast.parse(text, 5, 5 + rec.length, batch, 0, fastEncoder, i);
      const reasons = slowValidator.validate(rec.split(','), row, 0);
      if (fp === -1) return; // the general path decides; nothing to compare
      accepted++;
      expect(reasons, rec).toBeNull();
      expect(fp).toBe(slowEncoder.addRow(i, row, 0, row.length));
      fastValidator.columns.forEach((c, j) => {
        const got = batch.numbers[j] ? (Number.isNaN(batch.numbers[j]![0]) ? null : batch.numbers[j]![0]) : texts[j]!.get(batch.texts[j]!, 0);
        expect(Object.is(got, row[j]), `${rec} ${c.name}`).toBe(true);
      });
    });
  }
  expect(accepted).toBe(2 * 4); // the first four records take the fast path
  expect(Buffer.from(fastEncoder.contents()).equals(Buffer.from(slowEncoder.contents()))).toBe(true);
  expect(fastValidator.problemCounts).toEqual({}); // only the general path counts problems
});

test('a remembered text whose dictionary is full still reads back right (it goes as a literal, not a stale code)', () => {
  const validator = new RowValidator(config, header);
  const texts = validator.columns.map((c) => (isNumberColumn(c) ? null : new TextColumnEncoder(c.config.type !== 'identifier')));
  const zip = validator.columns.findIndex((c) => c.name === 'zip');
  // Fill the zip dictionary (as general-path rows would) so that the fast path's new values cannot get a code.
  const filler = emptyBatch(validator.columns, 1);
  for (let i = 0; i < 5000; i++) texts[zip]!.set(filler.texts[zip]!, 0, `f${i}`);
  const fast = new FastRecordParser(validator, config, texts);
  const batch = emptyBatch(validator.columns, 8);
  const encoder = new RowEncoder();
  const zips = ['98001', 'f7', '98002', '98001', 'f7', '98002'];
  zips.forEach((z, r) => {
    const rec = `100,a${r},47.5,3,5/21/2014,${z},1,true,x`;
    expect(fast.parse(rec, 0, rec.length, batch, r, encoder, r)).not.toBe(-1);
  });
  expect(zips.map((_, r) => texts[zip]!.get(batch.texts[zip]!, r))).toEqual(zips);
  // 'f7' has a dictionary code; the others are literals, each time.
  expect(batch.texts[zip]!.codes[1]).toBe(7);
  expect(batch.texts[zip]!.literals).toEqual(['98001', '98002', '98001', '98002']);
});
