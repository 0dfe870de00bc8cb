import { test, expect, afterAll } from 'vitest';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, kcCsv, kcConfigPath } from './helpers/temp-workspace.js';
import { runCli } from './helpers/run-cli.js';

const { dir, cleanup } = tempDir();
afterAll(cleanup);
const ws = join(dir, 'ws');
const cli = (...args: string[]) => runCli(['-w', ws, ...args]);

const lines = readFileSync(kcCsv, 'utf8')
  .split(/\r?\n/)
  .filter((l) => l);
const header = lines[0].split(',');
const house = Object.fromEntries(header.map((h, i) => [h, lines[1].split(',')[i]]));
delete house.price;

test('train --json, value --json and score through the real CLI', async () => {
  const small = join(dir, 'small.csv');
  writeFileSync(small, lines.slice(0, 4001).join('\n'));
  expect((await cli('ingest', small, '--config', kcConfigPath, '--name', 'kc4k', '-q')).code).toBe(0);
  const t = await cli('train', 'kc4k', '--folds', '3', '--params', 'nRounds=80 learning_rate=0.2', '--json');
  expect(t.code).toBe(0);
  const r = JSON.parse(t.stdout);
  for (const k of ['rmseLog', 'mape', 'mdape', 'within10', 'r2', 'medianRatio', 'cod', 'prd']) expect(typeof r.cv[k]).toBe('number');
  expect(r.modelId).toMatch(/^[0-9a-f]{64}$/);
  expect(r.trainSeconds).toBeGreaterThan(0);

  expect((await cli('value', 'champion', '--input', JSON.stringify(house))).code).toBe(1); // no champion yet
  expect((await cli('models', 'promote', r.modelId.slice(0, 10))).code).toBe(0);
  const v = await cli('value', 'champion', '--input', JSON.stringify(house), '--json');
  expect(v.code).toBe(0);
  const val = JSON.parse(v.stdout);
  expect(val.modelId).toBe(r.modelId);
  expect(val.interval.low).toBeLessThan(val.estimate);
  expect(val.interval.high).toBeGreaterThan(val.estimate);
  expect(val.interval.level).toBe(0.8);
  expect(val.contributions[0]).toHaveProperty('feature');
  expect(val.contributions[0]).toHaveProperty('value');
  expect(val.comparables.length).toBeGreaterThan(0);
  expect(val.valuationDate).toBe('2014-10-13'); // the input's own sale-date field

  const bad = await cli('value', 'champion', '--input', JSON.stringify({ ...house, sqft_living: 'big' }), '--json');
  expect(bad.code).toBe(1);
  expect(JSON.parse(bad.stdout).error.details).toEqual([{ field: 'sqft_living', message: 'sqft_living: "big" is not a number' }]);
  expect((await cli('value', 'champion', '--input', '{not json')).stderr).toContain('--input is not valid JSON');
}, 240_000);

test('batch scoring from a CSV with bad rows writes reasons, and resumes after an interruption', async () => {
  const input = join(dir, 'to-score.csv');
  // A control character is still refused (text that merely looks like a formula is data now, neutralised on export).
  const body = lines.slice(1, 301).map((l, i) => (i === 10 ? l.replace(/,98\d{3},/, ',98\u0007001,') : l));
  // Columns in another order than the schema's (the parcel id last): matching is by name, not position.
  const moveIdLast = (l: string) => {
    const f = l.split(',');
    return [...f.slice(1), f[0]].join(',');
  };
  writeFileSync(input, [lines[0], ...body].map(moveIdLast).join('\n'));
  const out = join(dir, 'scores.csv');
  const first = await cli('score', 'champion', input, '--out', out, '--json');
  expect(first.code).toBe(0);
  const r = JSON.parse(first.stdout);
  expect([r.rows, r.scored, r.failed]).toEqual([300, 299, 1]);
  const csv = readFileSync(out, 'utf8').trim().split('\n');
  expect(csv[0]).toBe('row,id,estimate,low_80,high_80,low_95,high_95,error');
  expect(csv[11]).toContain('zipcode: contains control characters');
  expect(csv[11].split(',')[2]).toBe(''); // never a made-up value
  expect(csv[11].split(',')[1]).toBe(body[10].split(',')[0]); // the bad row keeps its own parcel id

  // Simulate a run that died after 2 of 3 batches: a partial file with a checkpoint at row 200.
  const body200 = `${csv.slice(0, 201).join('\n')}\n`;
  writeFileSync(`${out}.partial`, `${body200}garbage-after-checkpoint\n`);
  writeFileSync(`${out}.partial.json`, JSON.stringify({ modelId: r.modelId, source: input, rowsDone: 200, bytes: Buffer.byteLength(body200) }));
  const resumed = await cli('score', 'champion', input, '--out', out, '--json');
  expect(JSON.parse(resumed.stdout).rows).toBe(300);
  expect(readFileSync(out, 'utf8').trim().split('\n')).toEqual(csv);
  expect(existsSync(`${out}.partial.json`)).toBe(false);
}, 240_000);
