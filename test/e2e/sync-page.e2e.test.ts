/**
 * End-to-end: the Sync page in Debian's Chromium against the real web host, on a device workspace enrolled with a
 * real registry on 127.0.0.1. "Sync now" pulls a published model (the page says it waits as a challenger) and
 * sends the report; with the registry stopped the page shows the failure in words. A workspace that is not
 * enrolled shows how to enrol. Screenshots: test-results/e2e/sync-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { sha512Base64 } from '../../core/sync/app-release.js';
import type { Page } from 'playwright-core';
import type { ListeningWebHost } from '../../core/api/web-host.js';
import { enrolDevice } from '../../core/sync/device-enrolment.js';
import { importVariant, startRegistry, type TestRegistry } from '../helpers/registry-fixture.js';
import { tempAppHost, tempServices } from '../helpers/temp-workspace.js';
import { browserSkipReason } from './browser.js';
import { openApp, serveApp, type OpenApp } from './open-app.js';

const skip = browserSkipReason();

describe.skipIf(skip !== null)('the Sync page', () => {
  let reg: TestRegistry;
  let device: ReturnType<typeof tempServices>;
  let publisher: ReturnType<typeof tempServices>;
  let e2e: OpenApp;
  let lone: Awaited<ReturnType<typeof tempAppHost>>;
  let loneHost: ListeningWebHost;
  let page: Page;
  let model: { id: string; name: string };

  beforeAll(async () => {
    reg = await startRegistry();
    await reg.createRepository('north');
    publisher = tempServices();
    model = importVariant(publisher.models, publisher.dir, 1);
    await reg.publisher.publishModel('north', 'stable', publisher.models.load(model.id), reg.publisherKey);
    // An app release newer than the device's (0.1.0): sync downloads and verifies it, and the page offers the restart.
    const installer = randomBytes(50_000);
    const name = 'Appraise-0.9.0.AppImage';
    const feed = Buffer.from(stringify({ version: '0.9.0', files: [{ url: name, sha512: sha512Base64(installer), size: installer.length }], path: name }));
    const files = [
      { name: 'latest-linux.yml', bytes: feed },
      { name, bytes: installer },
    ];
    await reg.publisher.publishApp('north', 'stable', { feedFile: 'latest-linux.yml', files }, reg.publisherKey);
    device = tempServices();
    device.models.promote(importVariant(device.models, device.dir, 0).id);
    const { code } = await reg.admin.createEnrolmentCode('north', 'stable');
    await enrolDevice(device.workspace.dir, reg.url, code, 'e2e laptop');
    // The device's own services (enrolled above); the host does not close them, afterAll does.
    e2e = await openApp({
      host: { services: device, processName: 'none', jobsInWorkers: false, sync: { background: false, appVersion: '0.1.0' } },
      context: { viewport: { width: 1280, height: 1000 } },
      goto: false,
    });
    page = e2e.page;
    lone = await tempAppHost({ processName: 'none', jobsInWorkers: false });
    loneHost = await serveApp(lone);
  }, 120_000);

  afterAll(async () => {
    await loneHost?.close();
    await e2e?.close();
    await lone?.cleanup();
    await device?.cleanup();
    await publisher?.cleanup();
    await reg?.close();
  });

  const openSync = async (url: string) => {
    await page.goto(url);
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Sync', exact: true }).click();
  };

  it('syncs on "Sync now": the pulled model waits as a challenger, the report is sent', async () => {
    await openSync(e2e.host.url);
    expect(await page.getByTestId('registry-url').textContent()).toBe(reg.url);
    await page.getByTestId('last-cycle').getByText('No sync has run yet').waitFor();
    await page.getByTestId('sync-now').click();
    const done = page.getByTestId('sync-done');
    await done.waitFor({ timeout: 60_000 });
    expect(await done.textContent()).toMatch(/1 new model, 1 report sent/);
    const notice = page.getByTestId('challenger-waiting');
    await notice.waitFor();
    expect(await notice.textContent()).toContain(model.name);
    expect(await page.getByTestId('last-cycle').textContent()).toMatch(/worked.*1 model pulled, 1 report sent/);
    expect(await page.getByTestId('outbox-depth').textContent()).toBe('none');
    expect(await page.getByTestId('sync-now').isEnabled()).toBe(true);
    await e2e.shot('sync-done', true);
  }, 90_000);

  it('offers "Restart to install" for the verified release, and on the web host says it is only in the desktop app', async () => {
    const notice = page.getByTestId('app-update');
    await notice.waitFor();
    expect(await notice.textContent()).toMatch(/Appraise 0\.9\.0 arrived from your registry and was verified/);
    await notice.getByTestId('restart-to-install').click();
    await notice
      .getByRole('alert')
      .getByText(/only in the desktop app/)
      .waitFor({ timeout: 10_000 });
    await e2e.shot('sync-restart-web', true);
  });

  it('shows the automatic promotion policy and saves a change on this computer', async () => {
    const card = page.getByTestId('promotion-policy');
    await card.waitFor();
    expect(await card.textContent()).toMatch(/waits as a challenger until a person promotes it/);
    expect(await card.getByTestId('policy-source').textContent()).toMatch(/The default: off/);
    await card.getByLabel('Replace the champion automatically when the new model is not worse').check();
    await card.locator('input[name="marginPct"]').fill('2');
    await card.locator('input[name="minSales"]').fill('0');
    await card.getByTestId('policy-save').click();
    // A wrong number comes back from the contract naming the field; nothing is stored.
    await card
      .getByRole('alert')
      .getByText(/minSales/)
      .waitFor({ timeout: 10_000 });
    expect(await card.getByTestId('policy-source').textContent()).toMatch(/The default: off/);
    await card.locator('input[name="minSales"]').fill('25');
    await card.getByTestId('policy-save').click();
    await card.getByText(/Saved; the next sync applies it/).waitFor({ timeout: 10_000 });
    expect(await card.getByTestId('policy-source').textContent()).toBe('Set on this computer.');
    expect(await card.textContent()).toMatch(/25 or more most recent sales with prices, it is not worse than the champion by more than 2 %/);
    expect(device.audit.all().some((e) => e.action === 'settings.change' && e.ids.setting === 'sync.autoPromote')).toBe(true);
    await e2e.shot('sync-policy', true);
  });

  it('enrols a workspace from the window: a wrong code is said in words, the right one links it', async () => {
    const fresh = await tempAppHost({ processName: 'none', jobsInWorkers: false, sync: { background: false } });
    const freshHost = await serveApp(fresh);
    try {
      await openSync(freshHost.url);
      const form = page.getByTestId('enrol-form');
      await form.waitFor();
      await form.locator('input[name="url"]').fill(reg.url);
      await form.locator('input[name="code"]').fill('enr_a-code-nobody-issued');
      await form.locator('input[name="name"]').fill('e2e second laptop');
      await page.getByTestId('enrol').click();
      await form
        .getByRole('alert')
        .getByText(/unknown, already used or expired/)
        .waitFor({ timeout: 20_000 });
      await e2e.shot('sync-enrol-refused', true);
      const { code } = await reg.admin.createEnrolmentCode('north', 'stable');
      await form.locator('input[name="code"]').fill(code);
      await page.getByTestId('enrol').click();
      await page.getByTestId('registry-url').waitFor({ timeout: 20_000 });
      expect(await page.getByTestId('registry-url').textContent()).toBe(reg.url);
      expect(await page.getByTestId('sync-now').isEnabled()).toBe(true);
      await e2e.shot('sync-enrolled', true);
    } finally {
      await freshHost.close();
      await fresh.cleanup();
    }
    // Back to the device's own page for the next test.
    await openSync(e2e.host.url);
    await page.getByTestId('registry-url').waitFor();
  }, 60_000);

  it('shows the failure in words when the registry is down', async () => {
    await reg.registry.close();
    await page.getByTestId('sync-now').click();
    await page
      .getByRole('alert')
      .getByText(/Cannot reach the registry/)
      .waitFor({ timeout: 30_000 });
    await expect.poll(() => page.getByTestId('last-error').textContent()).toMatch(/this computer may be offline/);
    expect(await page.getByTestId('last-cycle').textContent()).toMatch(/failed/);
    await e2e.shot('sync-offline', true);
  }, 60_000);

  it('on a workspace that is not enrolled, says how to enrol and offers no "Sync now"', async () => {
    await openSync(loneHost.url);
    const card = page.getByTestId('not-enrolled');
    await card.waitFor();
    expect(await card.textContent()).toMatch(/appraise sync enrol --url/);
    expect(await page.getByTestId('sync-now').count()).toBe(0);
    await e2e.shot('sync-not-enrolled', true);
  });
});
