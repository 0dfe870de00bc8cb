/**
 * The setup every browser e2e shares: the real app host on a temp workspace, the real web host on loopback
 * serving the built renderer, Debian's Chromium on one page. `close()` ends all of it, in reverse order.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { createAppHost, type AppHost, type AppHostOptions } from '../../core/app/app-host.js';
import { listenWebHost, type ListeningWebHost, type WebHostOptions } from '../../core/api/web-host.js';
import { tempDir } from '../helpers/temp-workspace.js';
import { ensureRendererBuilt, launchChromium, rendererDist, screenshotDir } from './browser.js';

export interface OpenAppOptions {
  /**
   * App host options; the workspace is a fresh temp folder (`<dir>/ws`), unless `services` are given (already
   * opened by the test, which then closes them itself).
   */
  host?: Omit<AppHostOptions, 'workspace'>;
  /** Web host options besides the dispatcher and the renderer; uploads go to the workspace's files/, up to `maxUploadBytes`. */
  webHost?: Partial<Omit<WebHostOptions, 'dispatcher' | 'staticDir' | 'files'>> & { maxUploadBytes?: number };
  /** Browser context options; default 1280×800. */
  context?: BrowserContextOptions;
  /** Called with the host before the browser opens (seed data through the services). */
  seed?: (app: AppHost, dir: string) => Promise<void>;
  /** Load the page once open (default true). */
  goto?: boolean;
}

export interface OpenApp {
  app: AppHost;
  /** The temp folder holding the workspace (`<dir>/ws`) and any files a test writes. */
  dir: string;
  host: ListeningWebHost;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Saves `test-results/e2e/<name>.png`. */
  shot(name: string, fullPage?: boolean): Promise<Buffer>;
  /** Clicks a screen's button in the side navigation. */
  nav(label: string): Promise<void>;
  close(): Promise<void>;
}

// A renderer built elsewhere (e.g. into a temp folder, so a shared checkout's renderer/dist is not replaced mid-run).
export const e2eStaticDir = (): string => process.env.APPRAISE_E2E_RENDERER_DIST ?? rendererDist;

/** Serves an app host's API and the built renderer on loopback, as `appraise serve` does (uploads into its files/). */
export function serveApp(app: AppHost, options: OpenAppOptions['webHost'] = {}): Promise<ListeningWebHost> {
  const { maxUploadBytes, ...rest } = options;
  return listenWebHost({
    dispatcher: app.dispatcher,
    staticDir: e2eStaticDir(),
    files: { dir: join(app.services.workspace.dir, 'files'), maxUploadBytes },
    ...rest,
  });
}

export async function openApp(options: OpenAppOptions = {}): Promise<OpenApp> {
  if (!process.env.APPRAISE_E2E_RENDERER_DIST) ensureRendererBuilt();
  mkdirSync(screenshotDir, { recursive: true });
  const { dir, cleanup } = tempDir('appraise-e2e-');
  let app: AppHost | undefined;
  let host: ListeningWebHost | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await host?.close();
    await app?.close();
    cleanup();
  };
  try {
    app = await createAppHost({ validateOutput: true, ...options.host, workspace: join(dir, 'ws') });
    await options.seed?.(app, dir);
    host = await serveApp(app, options.webHost);
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, ...options.context });
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    if (options.goto !== false) await page.goto(host.url);
    return {
      app,
      dir,
      host,
      browser,
      context,
      page,
      shot: (name, fullPage = false) => page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage }),
      nav: (label) => page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: label, exact: true }).click(),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
