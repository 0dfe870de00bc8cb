/**
 * End-to-end: the idle lock in the window. After the timeout (a test clock, moved on) the window covers what was
 * on screen with a lock screen; a wrong passphrase is said in words and leaves it locked; the right one unlocks.
 * The Lock button locks at once. The lock itself is core's (test/security-idle-lock-and-audit.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserSkipReason } from './browser.js';
import { openApp, type OpenApp } from './open-app.js';
import { idleLockVerifier } from '../../core/app/idle-lock.js';

const skip = browserSkipReason();
const LOCK_PASS = 'lock screen passphrase';
let t = Date.parse('2026-01-05T09:00:00Z');

describe.skipIf(skip !== null)('the lock screen', () => {
  let e2e: OpenApp;
  let page: Page;

  beforeAll(async () => {
    e2e = await openApp({
      host: {
        sync: { background: false },
        monitoringChecks: { background: false },
        // A folder with no key file: the lock passphrase comes from the environment given here.
        idleLock: { timeoutMs: 5 * 60_000, verify: idleLockVerifier('/nonexistent-workspace', { APPRAISE_LOCK_PASSPHRASE: LOCK_PASS }), now: () => t },
      },
    });
    ({ page } = e2e);
  }, 120_000);

  afterAll(() => e2e?.close());

  it('locks after idle, refuses a wrong passphrase, unlocks with the right one, and locks on the button', async () => {
    await page.getByRole('button', { name: 'Lock', exact: true }).waitFor();
    expect(await page.getByTestId('lock-screen').count()).toBe(0);

    t += 6 * 60_000; // six minutes without a call
    await page.evaluate("window.dispatchEvent(new Event('focus'))");
    const lock = page.getByTestId('lock-screen');
    await lock.waitFor();
    expect(await lock.textContent()).toMatch(/locked itself after 5 minutes/);
    await e2e.shot('lock-screen');

    await lock.getByLabel('Passphrase').fill('not the passphrase');
    await lock.getByRole('button', { name: 'Unlock' }).click();
    await lock
      .getByRole('alert')
      .getByText(/does not unlock Appraise/)
      .waitFor();
    expect(await page.getByTestId('lock-screen').count()).toBe(1);

    await lock.getByLabel('Passphrase').fill(LOCK_PASS);
    await lock.getByRole('button', { name: 'Unlock' }).click();
    await page.getByTestId('lock-screen').waitFor({ state: 'detached' });
    expect((await e2e.app.dispatcher.callSafe('datasets.list', {})).ok).toBe(true);

    await page.getByRole('button', { name: 'Lock', exact: true }).click();
    await page.getByTestId('lock-screen').waitFor();
    expect((await e2e.app.dispatcher.callSafe('datasets.list', {})).ok).toBe(false);
  });
});
