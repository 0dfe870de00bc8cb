import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userInfo } from 'node:os';
import { bundledDemo, loadDemoData } from '../core/services/demo-data.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kcConfigPath, kcCsv, tempAppHost } from './helpers/temp-workspace.js';
import type { AppHost } from '../core/app/app-host.js';
import type { ChampionHistory, ModelSummary } from '../core/models/model-schemas.js';

/**
 * Champion changes through the API: each promotion and rollback keeps its reason, who and when; a rollback
 * names the model it restores before it is made, and pressing it twice goes two promotions back instead of
 * bringing the rolled-back model again.
 */
describe('the champion history', () => {
  let host: AppHost & { dir: string; cleanup: () => Promise<void> };
  let a: ModelSummary;
  let b: string;
  let c: string;
  const call = <T>(m: string, input: unknown) => host.dispatcher.call(m, input) as Promise<T>;

  beforeAll(async () => {
    host = await tempAppHost({ processName: 'none' });
    const services = host.services;
    await loadDemoData(services, bundledDemo()!);
    a = (await call<ModelSummary[]>('models.list', {})).find((m) => m.status === 'champion')!;
    // Two quick challengers on the first 1,500 demo sales (only their ids matter here).
    const lines = readFileSync(kcCsv, 'utf8').split(/\r?\n/);
    const small = join(host.dir, 'small.csv');
    writeFileSync(small, lines.slice(0, 1501).join('\n') + '\n');
    const ds = await services.datasets.ingest({ file: small, config: kcConfigPath, name: 'small' });
    b = (await services.training.train({ dataset: ds.datasetId, folds: 2, params: { nRounds: 5 }, name: 'b' })).modelId;
    c = (await services.training.train({ dataset: ds.datasetId, folds: 2, params: { nRounds: 6 }, name: 'c' })).modelId;
  }, 180_000);
  afterAll(() => host?.cleanup());

  it('keeps the reason and who of each change, and rolls back one promotion at a time', async () => {
    host.services.models.promote({ ref: b, reason: 'better median error on the same folds' });
    host.services.models.promote({ ref: c, reason: 'trained on newer sales' });
    let h = await call<ChampionHistory>('models.history', {});
    expect(h.rollbackTo?.id).toBe(b);

    await call('models.rollback', { reason: 'c overvalues waterfront homes' });
    h = await call<ChampionHistory>('models.history', {});
    expect((await call<ModelSummary[]>('models.list', {})).find((m) => m.status === 'champion')!.id).toBe(b);
    // The next rollback restores the champion before b — not c, the one just rolled back.
    expect(h.rollbackTo?.id).toBe(a.id);
    await call('models.rollback', { reason: 'back to the bundled model' });
    expect((await call<ModelSummary[]>('models.list', {})).find((m) => m.status === 'champion')!.id).toBe(a.id);

    h = await call<ChampionHistory>('models.history', {});
    const [r2, r1, pc, pb] = h.changes;
    expect(r2).toMatchObject({ action: 'rollback', modelId: a.id, previousId: b });
    expect(r2.reason).toContain('back to the bundled model');
    expect(r1).toMatchObject({ action: 'rollback', modelId: b, previousId: c });
    expect(r1.reason).toContain('c overvalues waterfront homes');
    expect(pc).toMatchObject({ action: 'promote', modelId: c, previousId: b, modelName: 'c' });
    expect(pb).toMatchObject({ action: 'promote', modelId: b, previousId: a.id, reason: 'better median error on the same folds' });
    expect(pc.reason).toBe('trained on newer sales');
    for (const x of [r2, r1, pc, pb]) expect(x.who).toBe(userInfo().username);
    for (const x of [r2, r1, pc, pb]) expect(Date.now() - Date.parse(x.at)).toBeLessThan(120_000);
  });
});
