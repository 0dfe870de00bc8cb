/**
 * End-to-end: the Sync page in Debian's Chromium against the real web host, on a device workspace enrolled with a
 * real registry on 127.0.0.1. "Sync now" pulls a published model (the page says it waits as a challenger) and
 * sends the report; with the registry stopped the page shows the failure in words. A workspace that is not
 * enrolled shows how to enrol. Screenshots: test-results/e2e/sync-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createAppHost, type AppHost } from '../../core/app/app-host.js';
import { listenWebHost, type ListeningWebHost } from '../../core/api/web-host.js';
import { enrolDevice } from '../../core/sync/device-enrolment.js';
import { importVariant, startRegistry, type TestRegistry } from '../helpers/registry-fixture.js';
import { tempAppHost, tempServices } from '../helpers/temp-workspace.js';
import { browserSkipReason, ensureRendererBuilt, launchChromium, rendererDist, screenshotDir } from './browser.js';

const skip = browserSkipReason();
// A build of the renderer elsewhere (e.g. fresher than renderer/dist) can be served instead.
const dist = process.env.APPRAISE_RENDERER_DIST ?? rendererDist;

describe.skipIf(skip !== null)('the Sync page', () => {
  let reg: TestRegistry;
  let device: ReturnType<typeof tempServices>;
  let publisher: ReturnType<typeof tempServices>;
  let app: AppHost;
  let lone: Awaited<ReturnType<typeof tempAppHost>>;
  let host: ListeningWebHost;
  let loneHost: ListeningWebHost;
  let browser: Browser;
  let page: Page;
  let model: { id: string; name: string };

  beforeAll(async () => {
    if (!process.env.APPRAISE_RENDERER_DIST) ensureRendererBuilt();
    mkdirSync(screenshotDir, { recursive: true });
    reg = await startRegistry();
    await reg.createRepository('north');
    publisher = tempServices();
    model = importVariant(publisher.models, publisher.dir, 1);
    await reg.publisher.publishModel('north', 'stable', publisher.models.load(model.id), reg.publisherKey);
    device = tempServices();
    device.models.promote(importVariant(device.models, device.dir, 0).id);
    const { code } = await reg.admin.createEnrolmentCode('north', 'stable');
    await enrolDevice(device.workspace.dir, reg.url, code, 'e2e laptop');
    app = await createAppHost({ services: device, validateOutput: true, processName: 'none', jobsInWorkers: false, sync: { background: false } });
    host = await listenWebHost({ dispatcher: app.dispatcher, staticDir: dist });
    lone = await tempAppHost({ processName: 'none', jobsInWorkers: false });
    loneHost = await listenWebHost({ dispatcher: lone.dispatcher, staticDir: dist });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 1000 } })).newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await host?.close();
    await loneHost?.close();
    await app?.close();
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
    await openSync(host.url);
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
    await page.screenshot({ path: join(screenshotDir, 'sync-done.png'), fullPage: true });
  }, 90_000);

  it('shows the failure in words when the registry is down', async () => {
    await reg.registry.close();
    await page.getByTestId('sync-now').click();
    await page
      .getByRole('alert')
      .getByText(/Cannot reach the registry/)
      .waitFor({ timeout: 30_000 });
    await expect.poll(() => page.getByTestId('last-error').textContent()).toMatch(/this computer may be offline/);
    expect(await page.getByTestId('last-cycle').textContent()).toMatch(/failed/);
    await page.screenshot({ path: join(screenshotDir, 'sync-offline.png'), fullPage: true });
  }, 60_000);

  it('on a workspace that is not enrolled, says how to enrol and offers no "Sync now"', async () => {
    await openSync(loneHost.url);
    const card = page.getByTestId('not-enrolled');
    await card.waitFor();
    expect(await card.textContent()).toMatch(/appraise sync enrol --url/);
    expect(await page.getByTestId('sync-now').count()).toBe(0);
    await page.screenshot({ path: join(screenshotDir, 'sync-not-enrolled.png'), fullPage: true });
  });
});
