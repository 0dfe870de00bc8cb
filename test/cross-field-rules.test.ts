import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppraiseError } from '../core/common/errors.js';
import { kcConfigPath, kcCsv, tempAppHost } from './helpers/temp-workspace.js';
import { runCli } from './helpers/run-cli.js';
import { parseConfig } from '../core/config/load-config.js';

/**
 * A config's `rules:` enforced on every path a value comes in by: ingest (quarantine names the rule, on the fast
 * path too), the valuation form (`form.validate`), `value` through the API and the CLI, and batch scoring.
 * Real workspace, real model (trained small on the King County sales read under the rules).
 */
const RULES = `
rules:
  - { name: above_within_living, check: sqft_above <= sqft_living }
  - { name: renovated_after_built, check: yr_renovated == 0 or yr_renovated >= yr_built, message: renovated before it was built }
`;

describe('cross-field rules from the config', () => {
  let app: Awaited<ReturnType<typeof tempAppHost>>;
  let config: string;
  let datasetId: string;
  let modelId: string;
  const [header, ...rows] = readFileSync(kcCsv, 'utf8').trimEnd().split(/\r?\n/);
  const cols = header.split(',');
  const at = (name: string) => cols.indexOf(name);
  const house = Object.fromEntries(cols.map((c, i) => [c, rows[0].split(',')[i]])) as Record<string, string>;
  delete house.price;
  delete house.id;
  delete house.date;

  beforeAll(async () => {
    app = await tempAppHost({ processName: 'none' });
    config = join(app.dir, 'kc-rules.yaml');
    writeFileSync(config, readFileSync(kcConfigPath, 'utf8') + RULES);
    // 800 good rows, then one row breaking each rule. Both bad rows are plain (quote-free) records, which the
    // ingest's fast path reads: it must hand them to the general path to be quarantined with the rule's name.
    const good = rows.slice(0, 800);
    const aboveTooBig = rows[800].split(',');
    aboveTooBig[at('sqft_above')] = String(Number(aboveTooBig[at('sqft_living')]) + 500);
    const renovatedEarly = rows[801].split(',');
    renovatedEarly[at('yr_renovated')] = String(Number(renovatedEarly[at('yr_built')]) - 10);
    const file = join(app.dir, 'sales.csv');
    writeFileSync(file, [header, ...good, aboveTooBig.join(','), renovatedEarly.join(',')].join('\n') + '\n');
    const ingest = await app.services.datasets.ingest({ file, config, name: 'kc-rules' });
    datasetId = ingest.datasetId;
    expect(ingest.rowsAccepted).toBe(800);
    modelId = (await app.services.training.train({ dataset: datasetId, folds: 2, params: { nRounds: 20, learningRate: 0.3 }, seed: 1 })).modelId;
    app.services.models.promote(modelId);
  }, 120_000);
  afterAll(async () => {
    await app?.cleanup();
  });

  it('refuses a config whose rule is malformed or names an unknown column, saying where', () => {
    const base = readFileSync(kcConfigPath, 'utf8');
    expect(() => parseConfig(`${base}\nrules:\n  - { name: r1, check: "sqft_above = sqft_living" }\n`)).toThrow(/rules\.0\.check: use == to compare/);
    expect(() => parseConfig(`${base}\nrules:\n  - { name: r1, check: "sqft_attic <= sqft_living" }\n`)).toThrow(/"sqft_attic" is not a column/);
    expect(() => parseConfig(`${base}\nrules:\n  - { name: r1, check: "a == 1" }\n  - { name: r1, check: "b == 1" }\n`)).toThrow(/used twice/);
  });

  it('quarantines rows that break a rule, and the reason names the rule', async () => {
    const q = app.services.datasets.quarantine(datasetId, 10, 0);
    expect(q.total).toBe(2);
    const byLine = new Map(q.rows.map((r) => [r.line, r.reasons]));
    expect(byLine.get(802)).toEqual([
      expect.stringMatching(/^breaks rule above_within_living \(sqft_above <= sqft_living\): sqft_above \d+, sqft_living \d+$/),
    ]);
    expect(byLine.get(803)).toEqual([
      expect.stringMatching(/^breaks rule renovated_after_built \(renovated before it was built\): yr_renovated \d+, yr_built \d+$/),
    ]);
    const quality = app.services.datasets.get(datasetId).quality!;
    expect(quality.problems['rule above_within_living']).toEqual({ rule: 1 });
  });

  it('refuses contradictory input in the valuation form and in value, naming the rule', async () => {
    const contradictory = { ...house, sqft_above: String(Number(house.sqft_living) + 1) };
    const form = (await app.dispatcher.call('form.validate', { input: contradictory })) as { ok: boolean; errors: { field: string; message: string }[] };
    expect(form.ok).toBe(false);
    expect(form.errors).toEqual([{ field: 'sqft_above', message: expect.stringContaining('breaks rule above_within_living') }]);
    expect(await app.dispatcher.call('form.validate', { input: house })).toEqual({ ok: true, errors: [] });

    const err = await app.dispatcher.call('value', { input: { ...house, yr_renovated: '1900' } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppraiseError);
    expect((err as AppraiseError).code).toBe('INVALID_INPUT');
    expect((err as AppraiseError).message).toMatch(/breaks rule renovated_after_built \(renovated before it was built\): yr_renovated 1900, yr_built \d+/);
    // A rule that reads an empty field is not broken: the appraiser may not know the year of renovation.
    const { yr_renovated: _r, ...unknown } = { ...house, yr_renovated: '' };
    // Dated inside the sales (a model with a price index refuses dates far past its last sale, and "today" is).
    await expect(app.dispatcher.call('value', { input: { ...unknown }, valuationDate: '2015-05-01' })).resolves.toMatchObject({ modelId });
  });

  it('refuses contradictory input in the CLI with a non-zero exit naming the rule', async () => {
    const cli = await runCli([
      '--workspace',
      app.services.workspace.dir,
      'value',
      modelId,
      '--input',
      JSON.stringify({ ...house, sqft_above: String(Number(house.sqft_living) * 2) }),
    ]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/breaks rule above_within_living/);
    const ok = await runCli(['--workspace', app.services.workspace.dir, '--json', 'value', modelId, '--date', '2015-05-01', '--input', JSON.stringify(house)]);
    expect(ok.code, ok.stderr).toBe(0);
  }, 60_000);

  it('gives a batch row that breaks a rule an error naming the rule, and scores the others', async () => {
    const source = join(app.dir, 'batch.csv');
    const bad = rows[5].split(',');
    bad[at('sqft_above')] = String(Number(bad[at('sqft_living')]) + 100);
    writeFileSync(source, [header, rows[3], bad.join(','), rows[4]].join('\n') + '\n');
    const out = join(app.dir, 'scored.csv');
    const r = await app.services.valuation.score(modelId, source, out);
    expect(r.scored).toBe(2);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    const head = lines[0].split(',');
    const errorAt = head.indexOf('appraise_error');
    const errors = lines.slice(1).map((l) => l.split(',').slice(errorAt).join(','));
    expect(errors.filter((e) => e !== '' && e !== '""')).toEqual([expect.stringContaining('breaks rule above_within_living')]);
  }, 60_000);
});
