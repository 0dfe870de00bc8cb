/**
 * The renderer's one local-storage migration (renderer/src/screens/value/load-report-settings.ts), in Debian's
 * Chromium against the real web host: earlier versions kept the report texts and rounding per window under
 * `appraise.reportSettings`; opened on a workspace that never had report settings, the window writes them into the
 * workspace and removes the local copy. A workspace that already has its own keeps them (the local copy is not
 * applied), and an appraiser's session, which may not change settings, leaves the local copy for an analyst.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ReportSettings } from '../../core/valuation/report-settings-schemas.js';
import { browserSkipReason } from './browser.js';
import { openApp, type OpenApp } from './open-app.js';

const skip = browserSkipReason();
if (skip) console.warn(`e2e (report settings migration) skipped: ${skip}`);

const KEY = 'appraise.reportSettings';
// The page's storage, typed here (the test's own tsconfig has no DOM library).
// Functions passed to page.evaluate run in the page, so they name globalThis themselves.
type PageStorage = { localStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void } };
// The old format: the texts and the rounding step, as the window saved them.
const legacy = {
  assumptions: 'Legacy assumptions: the property was not inspected inside; measurements from county records.',
  certification: 'Legacy certification: I have no present or prospective interest in the property.',
  roundTo: 5000,
};

/** Opens the app, puts the old-format copy in the window's storage, reloads and opens Settings. */
async function withLegacyCopy(e2e: OpenApp): Promise<void> {
  const page = e2e.page;
  await page.goto(e2e.host.url);
  await page.getByRole('navigation', { name: 'Screens' }).waitFor();
  await page.evaluate(([k, v]) => (globalThis as unknown as PageStorage).localStorage.setItem(k, v), [KEY, JSON.stringify(legacy)]);
  await page.reload();
  await e2e.nav('Settings');
}
const settingsOf = (e2e: OpenApp) => e2e.app.dispatcher.call('reports.settings', {}) as Promise<ReportSettings>;
const localCopy = (e2e: OpenApp) => e2e.page.evaluate((k) => (globalThis as unknown as PageStorage).localStorage.getItem(k), KEY);

describe.skipIf(skip !== null)('report settings kept in local storage by earlier versions', () => {
  const opened: OpenApp[] = [];
  const open = async (o: Parameters<typeof openApp>[0]) => {
    const e2e = await openApp({ goto: false, ...o });
    opened.push(e2e);
    return e2e;
  };
  afterAll(async () => {
    for (const e of opened) await e.close();
  });

  it('are moved into a workspace that has none, and the local copy is removed', async () => {
    const e2e = await open({ host: { processName: 'none', jobsInWorkers: false } });
    const before = await settingsOf(e2e);
    expect(before.updatedAt).toBeNull();
    expect(before.assumptions).not.toBe(legacy.assumptions);
    await withLegacyCopy(e2e);
    await expect.poll(async () => (await settingsOf(e2e)).updatedAt, { timeout: 10_000 }).not.toBeNull();
    const after = await settingsOf(e2e);
    expect(after).toMatchObject({ assumptions: legacy.assumptions, certification: legacy.certification, roundTo: legacy.roundTo });
    await expect.poll(() => localCopy(e2e)).toBeNull();
    // The Settings screen shows the moved texts.
    await expect.poll(() => e2e.page.locator('textarea[name=certification]').inputValue()).toBe(legacy.certification);
    await e2e.shot('settings-migrated');
  }, 60_000);

  it('are not applied over a workspace that has its own, and an appraiser session leaves the copy for an analyst', async () => {
    const own = await open({
      host: { processName: 'none', jobsInWorkers: false },
      seed: async (app) => {
        const s = (await app.dispatcher.call('reports.settings', {})) as ReportSettings;
        await app.dispatcher.call('settings.setReport', {
          assumptions: 'The office assumptions.',
          certification: s.certification,
          roundTo: 1000,
          appraiserName: s.appraiserName,
          appraiserLicence: s.appraiserLicence,
        });
      },
    });
    await withLegacyCopy(own);
    await expect.poll(() => own.page.locator('textarea[name=assumptions]').inputValue()).toBe('The office assumptions.');
    expect(await settingsOf(own)).toMatchObject({ assumptions: 'The office assumptions.', roundTo: 1000 });

    const appraiser = await open({ host: { processName: 'none', jobsInWorkers: false, role: 'appraiser' } });
    await withLegacyCopy(appraiser);
    // Once the screen shows the settings, the window has tried (and been refused): unset, and the copy stays.
    await appraiser.page.locator('textarea[name=assumptions]').waitFor();
    expect((await settingsOf(appraiser)).updatedAt).toBeNull();
    expect(await localCopy(appraiser)).toBe(JSON.stringify(legacy));
  }, 90_000);
});
