/**
 * End-to-end accessibility: on a workspace with the demo data and its champion model, every screen is opened
 * through the side navigation at 1280×800 and 1024×700, in the light and the dark theme, and checked with
 * axe-core (WCAG 2.1 A/AA rules). Any serious or critical violation fails the test with the rule, the element and
 * axe's advice. Each state's screenshot goes to test-results/e2e/screens/<screen>-<width>x<height>-<theme>.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { kcConfigPath, kcCsv, repoRoot } from '../helpers/temp-workspace.js';
import { browserSkipReason, screenshotDir } from './browser.js';
import { openApp, type OpenApp } from './open-app.js';

const skip = browserSkipReason();
if (skip) console.warn(`e2e (accessibility) skipped: ${skip}`);

const axeSource = readFileSync(join(repoRoot, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const SCREENS = ['Value a property', 'Batch', 'Data', 'Models', 'Train', 'Monitoring', 'Sync', 'Market', 'Settings'];
const VIEWPORTS = [
  { width: 1280, height: 800 },
  { width: 1024, height: 700 },
];
const THEMES = ['light', 'dark'] as const;

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** axe-core's serious and critical findings on the page as it is now, in words a failing test can print. */
async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated rather than added as a <script>: the app's CSP (script-src 'self') rightly refuses an inline script,
  // and loosening it for the test would check a different page than the one users get.
  if (!(await page.evaluate<boolean>("'axe' in window"))) await page.evaluate(axeSource);
  // A string, not a function: this file compiles without the DOM library, and the page is where it runs.
  const violations = await page.evaluate<AxeViolation[]>(`axe
    .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
    .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) })))`);
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.impact} ${v.id} (${v.help}) at ${n.target.join(' ')}: ${n.failureSummary ?? ''}`));
}

describe.skipIf(skip !== null)('accessibility of every screen (axe-core)', () => {
  let e2e: OpenApp;
  let page: Page;
  const dir = join(screenshotDir, 'screens');

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    e2e = await openApp({ host: { demo: { csv: kcCsv, config: kcConfigPath }, prepareDemo: true, jobsInWorkers: false, processName: 'none' } });
    page = e2e.page;
  }, 180_000);

  afterAll(() => e2e?.close());

  /** Opens a screen and waits until it has drawn its content (no "Loading…" left in the main area). */
  async function open(screen: string): Promise<void> {
    await e2e.nav(screen);
    await page.locator('nav[aria-label="Screens"] [aria-current="page"]', { hasText: screen }).waitFor();
    await expect.poll(() => page.locator('#main').innerText(), { timeout: 15_000 }).not.toMatch(/^\s*$|Loading…/);
  }

  async function setTheme(theme: (typeof THEMES)[number]): Promise<void> {
    const toggle = page.getByRole('button', { name: `Switch to ${theme} theme` });
    if (await toggle.count()) await toggle.click();
    await expect.poll(() => page.evaluate<string | undefined>('document.documentElement.dataset.theme')).toBe(theme);
  }

  it('values a property first, so the Value screen is checked with its result and grid on it', async () => {
    await open('Value a property');
    await expect.poll(() => page.getByTestId('value-submit').isDisabled(), { timeout: 15_000 }).toBe(false);
    await page.getByTestId('value-submit').click();
    await page.getByTestId('valuation-result').waitFor({ timeout: 15_000 });
    await page.getByTestId('open-grid').click();
    await page.getByTestId('comparables').getByText('Adjusted price').waitFor();
  }, 60_000);

  for (const viewport of VIEWPORTS) {
    for (const theme of THEMES) {
      it(`finds no serious violation on any screen at ${viewport.width}×${viewport.height}, ${theme} theme`, async () => {
        await page.setViewportSize(viewport);
        await setTheme(theme);
        const found: string[] = [];
        for (const screen of SCREENS) {
          await open(screen);
          await e2e.page.screenshot({ path: join(dir, `${slug(screen)}-${viewport.width}x${viewport.height}-${theme}.png`) });
          found.push(...(await seriousViolations(page)).map((v) => `[${screen}] ${v}`));
        }
        expect(found, found.join('\n')).toEqual([]);
      }, 120_000);
    }
  }

  it('keeps keyboard use: the skip link leads to the main area and Alt+number switches screens', async () => {
    await page.setViewportSize(VIEWPORTS[0]);
    await page.reload();
    // The shell is drawn (the navigation is there) before the first Tab, or the Tab lands on an empty page.
    await page.locator('nav[aria-label="Screens"] [aria-current="page"]').waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string | undefined>('document.activeElement?.textContent')).toMatch(/Skip to/i);
    await page.keyboard.press('Enter');
    expect(await page.evaluate<string | undefined>('document.activeElement?.id')).toBe('main');
    await page.keyboard.press('Alt+4');
    await page.locator('nav[aria-label="Screens"] [aria-current="page"]', { hasText: 'Models' }).waitFor();
  });
});

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-');
