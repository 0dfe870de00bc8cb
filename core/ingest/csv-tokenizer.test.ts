import { test, expect } from 'vitest';
import { CsvTokenizer, type TokenizedRecord, type CsvRecord } from './csv-tokenizer.js';

function tokenize(text: string, chunkSize = text.length, maxRecordBytes = 1 << 20): TokenizedRecord[] {
  const t = new CsvTokenizer({ delimiter: ',', maxRecordBytes });
  const out: TokenizedRecord[] = [];
  for (let i = 0; i < text.length; i += chunkSize) t.push(text.slice(i, i + chunkSize), out);
  t.end(out);
  return out;
}

const fields = (rs: TokenizedRecord[]) => rs.map((r) => ('fields' in r ? r.fields : 'OVERSIZED'));

test('plain rows, CRLF and a missing final newline', () => {
  expect(fields(tokenize('a,b\r\n1,2\r\n3,4'))).toEqual([
    ['a', 'b'],
    ['1', '2'],
    ['3', '4'],
  ]);
});

test('quoted fields with delimiters, doubled quotes and embedded newlines keep source line numbers', () => {
  const text = 'a,b\n"x,y","he said ""hi"""\n"multi\nline\nvalue",2\nlast,row\n';
  const rs = tokenize(text) as CsvRecord[];
  expect(rs.map((r) => r.fields)).toEqual([
    ['a', 'b'],
    ['x,y', 'he said "hi"'],
    ['multi\nline\nvalue', '2'],
    ['last', 'row'],
  ]);
  expect(rs.map((r) => r.line)).toEqual([1, 2, 3, 6]);
  expect(rs[2].raw).toBe('"multi\nline\nvalue",2');
});

test('any chunking gives the same records as one chunk', () => {
  const text = 'h1,h2,h3\r\n1,"a ""q"" b",3\n\n"x\r\ny",,z\r\n4,5,6\n"unterminated,7';
  const whole = tokenize(text);
  for (const size of [1, 2, 3, 5, 7, 13]) expect(tokenize(text, size)).toEqual(whole);
  expect(fields(whole).at(-1)).toEqual(['unterminated,7']);
});

test('blank lines are skipped but counted', () => {
  const rs = tokenize('a\n\n\nb\n') as CsvRecord[];
  expect(rs.map((r) => [r.line, r.fields[0]])).toEqual([
    [1, 'a'],
    [4, 'b'],
  ]);
});

test('a record longer than the limit is reported once and skipped without stopping the file', () => {
  const long = 'x'.repeat(5000);
  const text = `a,b\n1,${long}\n2,3\n"${long}\n",4\n5,6\n`;
  for (const size of [text.length, 100, 1024]) {
    const rs = tokenize(text, size, 1024);
    const oversized = rs.filter((r) => 'oversized' in r);
    expect(oversized.length).toBeGreaterThanOrEqual(2);
    expect(oversized[0].line).toBe(2);
    const ok = rs.filter((r): r is CsvRecord => 'fields' in r).map((r) => r.fields);
    expect(ok).toContainEqual(['2', '3']);
    expect(ok).toContainEqual(['5', '6']);
  }
});
