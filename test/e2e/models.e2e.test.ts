/**
 * End-to-end: champion changes on the Models screen in Debian's Chromium against the real web host. Promote asks
 * for confirmation and a reason (and names the champion it replaces); cancelling changes nothing; the history
 * lists who, when and why for each change, as the workspace recorded it; "Roll back" names the model it restores
 * in the button and in the confirmation, and afterwards offers exactly what the workspace would restore next.
 * Three real models (copies of the bundled King County model with distinct ids). Screenshots: test-results/e2e/models-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { ChampionHistory, ModelSummary } from '../../core/models/model-schemas.js';
import { importVariant } from '../helpers/registry-fixture.js';
import { browserSkipReason } from './browser.js';
import { openApp, type OpenApp } from './open-app.js';

const skip = browserSkipReason();
if (skip) console.warn(`e2e (models) skipped: ${skip}`);

describe.skipIf(skip !== null)('the Models screen: promote and roll back with confirmation, reason and history', () => {
  let e2e: OpenApp;
  let page: Page;
  let v: ModelSummary[] = [];
  const short = (id: string) => id.slice(0, 12);
  const history = () => e2e.app.dispatcher.call('models.history', {}) as Promise<ChampionHistory>;
  const champion = async () => ((await e2e.app.dispatcher.call('models.list', {})) as ModelSummary[]).find((m) => m.status === 'champion')?.id;
  const historyRows = () => page.getByTestId('champion-history').locator('tbody tr');

  beforeAll(async () => {
    e2e = await openApp({
      host: { processName: 'none', jobsInWorkers: false },
      goto: false,
      seed: (app, dir) => {
        v = [0, 1, 2].map((i) => importVariant(app.services.models, dir, i));
        app.services.models.promote({ ref: v[0].id, reason: 'first model of the office' });
        return Promise.resolve();
      },
    });
    page = e2e.page;
    await page.goto(e2e.host.url);
    await e2e.nav('Models');
    await page.getByTestId('models').waitFor();
  }, 120_000);

  afterAll(() => e2e?.close());

  it('asks before promoting, with a reason, and names the champion it replaces; Cancel changes nothing', async () => {
    await page.getByRole('button', { name: 'Promote variant-2' }).click();
    expect(await page.getByTestId('change-question').textContent()).toContain(`Make variant-2 (${short(v[2].id)}) the champion?`);
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect(await page.getByTestId('change-question').count()).toBe(0);
    expect(await champion()).toBe(v[0].id);

    await page.getByRole('button', { name: 'Promote variant-1' }).click();
    const question = await page.getByTestId('change-question').textContent();
    expect(question).toContain(`Make variant-1 (${short(v[1].id)}) the champion?`);
    expect(question).toContain(`It replaces variant-0 (${short(v[0].id)}).`);
    // No reason, no change.
    expect(await page.getByTestId('change-confirm').isDisabled()).toBe(true);
    await page.getByTestId('change-reason').fill('  ');
    expect(await page.getByTestId('change-confirm').isDisabled()).toBe(true);
    await page.getByTestId('change-reason').fill('better ratio study on the 2015 sales');
    await e2e.shot('models-1-confirm-promote');
    await page.getByTestId('change-confirm').click();
    await page
      .getByRole('status')
      .getByText(`variant-1 (${short(v[1].id)}) is now the champion.`)
      .waitFor();
    expect(await champion()).toBe(v[1].id);
  });

  it('lists who, when and why for every change, as the workspace recorded them', async () => {
    await expect.poll(() => historyRows().count()).toBe(2);
    const recorded = (await history()).changes;
    expect(recorded.map((c) => c.reason)).toEqual(['better ratio study on the 2015 sales', 'first model of the office']);
    for (const [i, c] of recorded.entries()) {
      const [when, who, change, model, replaced, why] = await historyRows().nth(i).locator('td').allTextContents();
      expect(when).toBe(c.at.replace('T', ' ').slice(0, 16));
      expect(who).toBe(c.who);
      expect(who).not.toBe('—');
      expect(change).toBe('Promoted');
      expect(model).toContain(short(c.modelId));
      expect(replaced).toContain(c.previousId ? short(c.previousId) : '—');
      expect(why).toBe(c.reason);
    }
  });

  it('rolls back to the model it names, in the button and the confirmation, and then offers what the workspace would restore next', async () => {
    const button = page.getByTestId('rollback');
    expect(await button.textContent()).toBe(`Roll back to variant-0 (${short(v[0].id)})`);
    await button.click();
    const question = await page.getByTestId('change-question').textContent();
    expect(question).toContain(`Roll back to variant-0 (${short(v[0].id)})?`);
    expect(question).toContain(`It replaces variant-1 (${short(v[1].id)}).`);
    await page.getByTestId('change-reason').fill('variant-1 over-values waterfront lots');
    await e2e.shot('models-2-confirm-rollback');
    await page.getByTestId('change-confirm').click();
    await page
      .getByRole('status')
      .getByText(`Rolled back: variant-0 (${short(v[0].id)}) is the champion again.`)
      .waitFor();
    expect(await champion()).toBe(v[0].id);

    await expect.poll(() => historyRows().count()).toBe(3);
    const [, who, change, model, replaced, why] = await historyRows().first().locator('td').allTextContents();
    expect(change).toBe('Rolled back');
    // The store keeps the user's reason with what was rolled back from.
    expect(why).toBe((await history()).changes[0].reason);
    expect(why).toContain('variant-1 over-values waterfront lots');
    expect(model).toContain(short(v[0].id));
    expect(replaced).toContain(short(v[1].id));
    expect(who).toBe((await history()).changes[0].who);

    // Pressed again, the button says what a rollback would restore now (never a silent swap back to variant-1).
    const next = (await history()).rollbackTo;
    await expect.poll(() => button.textContent()).toBe(next ? `Roll back to ${next.name} (${short(next.id)})` : 'Nothing to roll back to');
    expect(next?.id).not.toBe(v[1].id);
    expect(await button.isDisabled()).toBe(next === null);
    await e2e.shot('models-3-rolled-back', true);
  });

  it('keeps the actions column on screen at 1024×700', async () => {
    await page.setViewportSize({ width: 1024, height: 700 });
    const promote = page.getByRole('button', { name: 'Promote variant-2' });
    await promote.scrollIntoViewIfNeeded();
    const box = await promote.boundingBox();
    expect(box).not.toBeNull();
    expect(box!.x + box!.width).toBeLessThanOrEqual(1024);
    await e2e.shot('models-4-1024x700');
  });
});
