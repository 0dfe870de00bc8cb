import { test, expect } from 'vitest';
import { RowEncoder } from './row-encoder.js';

test('equal values give equal fingerprints whatever the row index; any difference changes it', () => {
  const e = new RowEncoder();
  const a = e.addRow(0, [1.5, 'Belém', null, 98178], 0, 4);
  const b = e.addRow(7, [1.5, 'Belém', null, 98178], 0, 4);
  expect(b).toBe(a);
  const variants = [
    [1.5000001, 'Belém', null, 98178],
    [1.5, 'Belem', null, 98178],
    [1.5, 'Belém', 0, 98178],
    [1.5, 'Belém', null, '98178'],
    [1.5, 'Belém', null],
  ];
  const fps = variants.map((v) => e.addRow(0, v, 0, v.length));
  expect(new Set([a, ...fps]).size).toBe(6);
  expect(Number.isSafeInteger(a)).toBe(true);
});

test('the serialization grows past its initial buffer and is deterministic', () => {
  const e1 = new RowEncoder();
  const e2 = new RowEncoder();
  const long = 'x'.repeat(300_000);
  for (let i = 0; i < 5; i++) {
    e1.addRow(i, [i, long, null], 0, 3);
    e2.addRow(i, [i, long, null], 0, 3);
  }
  expect(e1.contents().length).toBeGreaterThan(1 << 20);
  expect(Buffer.from(e1.contents()).equals(Buffer.from(e2.contents()))).toBe(true);
});
