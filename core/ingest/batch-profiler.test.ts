import { test, expect } from 'vitest';
import { parseConfig } from '../config/load-config.js';
import { schemaColumns } from '../schema/row-validator.js';
import { createProfiler } from '../quality/column-profiler.js';
import { BatchProfiler } from './batch-profiler.js';
import { emptyBatch, isNumberColumn, TextColumnDecoder, TextColumnEncoder } from './row-batch.js';

const config = parseConfig(`
version: 1
name: t
dataset:
  columns:
    id: { type: identifier }
    zip: { type: categorical }
    price: { type: numeric, required: true }
target: { column: price }
`).config;

test('profiling a text column by its dictionary codes gives the profile of adding each value in file order', () => {
  const columns = schemaColumns(config);
  let seed = 7;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  // The first batch fills the zip dictionary (4,096 entries; the last one is 'late'), then passes the profiler's
  // distinct cap (10,000) with literals; the second batch is mostly 'late'. A value kept or dropped at the cap
  // depends on the order the profiler first sees values in, and 'late' is then the top value or absent.
  const batchRows = 16_000;
  const value = (c: number, i: number): string | null => {
    if (c === 0) return rnd() < 0.05 ? null : `id-${i}`;
    if (i < 4095) return `u${i}`;
    if (i === 4095) return 'late';
    if (i < batchRows) return `l${i}`;
    return rnd() < 0.05 ? null : rnd() < 0.8 ? 'late' : `z${Math.floor(rnd() * 40)}`;
  };
  const encoders = columns.map((c) => (isNumberColumn(c) ? null : new TextColumnEncoder(c.config.type !== 'identifier')));
  const decoders = columns.map((c) => (isNumberColumn(c) ? null : new TextColumnDecoder()));
  const byBatch = new BatchProfiler(columns);
  const oneByOne = columns.map((c, i) => createProfiler(c, i + 1));
  for (let start = 0; start < 2 * batchRows; start += batchRows) {
    const b = emptyBatch(columns, batchRows);
    for (let r = 0; r < batchRows; r++) {
      columns.forEach((_, c) => {
        if (encoders[c] === null) {
          const x = Math.round(rnd() * 1000);
          b.numbers[c]![r] = x;
          oneByOne[c].add(x);
          return;
        }
        const v = value(c, start + r);
        encoders[c]!.set(b.texts[c]!, r, v);
        oneByOne[c].add(v);
      });
    }
    b.rows = batchRows;
    encoders.forEach((e, c) => e?.seal(b.texts[c]!));
    decoders.forEach((d, c) => d?.receive(b.texts[c]!));
    byBatch.add(b, decoders);
  }
  const expected = oneByOne.map((p) => p.result());
  const got = byBatch.results();
  expect(got[1].distinctCapped).toBe(true);
  expect(got[1].topValues[0].value).toBe('late');
  expect(got[1].missing).toBeGreaterThan(0);
  expect(got).toEqual(expected);
});
