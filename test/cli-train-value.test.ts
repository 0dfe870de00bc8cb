import { test, expect, afterAll } from 'vitest';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, kcCsv, kcConfigPath } from './helpers/temp-workspace.js';
import { runCli } from './helpers/run-cli.js';
import DatabaseCtor from 'better-sqlite3';
import { fileSourceKey } from '../core/valuation/score-checkpoint.js';

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
  expect(val.fsd).toBeGreaterThan(0);
  expect(['High', 'Medium', 'Low']).toContain(val.confidenceTier);
  expect(r.coverage.overall.n).toBe(r.coverage.rows.evaluation);
  const text = await cli('value', 'champion', '--input', JSON.stringify(house), '--no-grid');
  expect(text.stdout).toContain(`Confidence ${val.confidenceTier} (FSD ${(val.fsd * 100).toFixed(1)}%`);
  const shown = await cli('models', 'show', r.modelId.slice(0, 10));
  expect(shown.stdout).toMatch(/Interval coverage on \d+ held-out sales/);
  expect(shown.stdout).toMatch(/tier (High|Medium|Low)/);
  expect(shown.stdout).toContain('price decile 10:');

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
  // The file's columns as written (in the file's order), then the file line and the product's columns.
  const inputHeader = moveIdLast(lines[0]);
  const W = inputHeader.split(',').length;
  const outHeader = `${inputHeader},appraise_line,appraise_estimate,appraise_low_80,appraise_high_80,appraise_low_95,appraise_high_95,appraise_fsd_pct,appraise_confidence,appraise_error`;
  expect(csv[0]).toBe(outHeader);
  expect(csv[1].split(',').slice(0, W + 1)).toEqual([...moveIdLast(body[0]).split(','), '2']);
  expect(csv[11]).toContain('zipcode: contains control characters');
  const [fsdPct, tier] = csv[1].split(',').slice(W + 6);
  expect(Number(fsdPct)).toBeGreaterThan(0);
  expect(['High', 'Medium', 'Low']).toContain(tier);
  expect(csv[11].split(',')[W + 1]).toBe(''); // never a made-up value
  expect(csv[11].split(',')[W - 1]).toBe(body[10].split(',')[0]); // the bad row keeps its own parcel id
  expect(csv[11].split(',')[W]).toBe('12'); // and says its file line

  // Simulate a run that died after 2 of 3 batches: a partial file with a checkpoint at row 200.
  const body200 = `${csv.slice(0, 201).join('\n')}\n`;
  writeFileSync(`${out}.partial`, `${body200}garbage-after-checkpoint\n`);
  const checkpoint = {
    modelId: r.modelId,
    sourceKey: fileSourceKey(input),
    rowsDone: 200,
    bytes: Buffer.byteLength(body200),
    header: outHeader.split(','),
  };
  writeFileSync(`${out}.partial.json`, JSON.stringify(checkpoint));
  const resumed = await cli('score', 'champion', input, '--out', out, '--json');
  expect(JSON.parse(resumed.stdout).rows).toBe(300);
  expect(JSON.parse(resumed.stdout).notes).toEqual(['resumed after row 200 of an interrupted run with the same model and source']);
  expect(readFileSync(out, 'utf8').trim().split('\n')).toEqual(csv);
  expect(existsSync(`${out}.partial.json`)).toBe(false);

  // Finding 6: a kill while the checkpoint was written in place left it empty, and every rerun failed with INTERNAL.
  writeFileSync(`${out}.partial`, `${body200}garbage-after-checkpoint\n`);
  writeFileSync(`${out}.partial.json`, '');
  const afterEmpty = await cli('score', 'champion', input, '--out', out, '--json');
  expect(afterEmpty.code).toBe(0);
  expect(JSON.parse(afterEmpty.stdout).notes).toEqual(['started over: the checkpoint of the earlier run is empty']);
  expect(readFileSync(out, 'utf8').trim().split('\n')).toEqual(csv);

  // Finding 6: the same path with other content (same size: one digit of one sale changed) used to resume into a
  // mix of old and new rows reported as complete. The first 200 output rows of the old content must not survive.
  const edited = readFileSync(input, 'utf8').replace(/,98(\d{3}),/, (_m, d: string) => `,98${d === '001' ? '002' : '001'},`);
  expect(edited.length).toBe(readFileSync(input, 'utf8').length);
  const oldKey = fileSourceKey(input);
  writeFileSync(input, edited);
  writeFileSync(`${out}.partial`, `${body200}`);
  writeFileSync(`${out}.partial.json`, JSON.stringify({ ...checkpoint, sourceKey: oldKey }));
  const changed = await cli('score', 'champion', input, '--out', out, '--json');
  expect(changed.code).toBe(0);
  expect(JSON.parse(changed.stdout).notes).toEqual(['started over: the source changed since the earlier run']);
  const fresh = join(dir, 'fresh.csv');
  expect((await cli('score', 'champion', input, '--out', fresh, '--json')).code).toBe(0);
  expect(readFileSync(out, 'utf8')).toBe(readFileSync(fresh, 'utf8'));

  // Finding 6, sqlite: sinks resumed from COUNT(*) whatever wrote the table. Now they resume only from this
  // model's and source's recorded progress, and a table written from another source is replaced, saying so.
  const toTable = await cli('score', 'champion', input, '--out', 'sqlite:s6', '--json');
  expect(toTable.code).toBe(0);
  const db = new DatabaseCtor(join(ws, 'appraise.db'));
  try {
    db.prepare('DELETE FROM scores_s6 WHERE "row" >= 200').run();
    db.prepare("UPDATE score_runs SET rows_done = 200 WHERE table_name = 'scores_s6'").run();
  } finally {
    db.close();
  }
  const resumedTable = JSON.parse((await cli('score', 'champion', input, '--out', 'sqlite:s6', '--json')).stdout);
  expect([resumedTable.rows, resumedTable.scored + resumedTable.failed]).toEqual([300, 100]);
  const other = join(dir, 'other.csv');
  writeFileSync(other, readFileSync(input, 'utf8').split('\n').slice(0, 51).join('\n'));
  const replaced = JSON.parse((await cli('score', 'champion', other, '--out', 'sqlite:s6', '--json')).stdout);
  expect(replaced.notes).toEqual(['started over: scores_s6 was replaced because it was written from another source']);
  const check = new DatabaseCtor(join(ws, 'appraise.db'), { readonly: true });
  try {
    expect((check.prepare('SELECT COUNT(*) AS n FROM scores_s6').get() as { n: number }).n).toBe(50);
  } finally {
    check.close();
  }
}, 240_000);
