/**
 * Electron end-to-end: launch the real app with Playwright's `_electron` and value one property. Skips, saying
 * why, where Electron's binary is absent (CI and headless machines install with ELECTRON_SKIP_BINARY_DOWNLOAD=1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { _electron as electron, type ElectronApplication } from 'playwright-core';
import { findElectronBinary } from '../../electron/launch.js';
import { openServices } from '../../core/services/open-workspace.js';
import { kcConfigPath, kcCsv, repoRoot, tempDir } from '../helpers/temp-workspace.js';
import { ensureRendererBuilt, screenshotDir } from './browser.js';

const binary = findElectronBinary();
const mainJs = join(repoRoot, 'dist', 'electron', 'main.js');
const skipReason =
  binary.path === null ? `Electron e2e skipped: ${binary.reason}` : !existsSync(mainJs) ? 'Electron e2e skipped: dist/ is not built (npm run build)' : null;
if (skipReason) console.warn(skipReason);

describe.skipIf(skipReason !== null)('Appraise in Electron', () => {
  let app: ElectronApplication;
  let cleanup: () => void;

  beforeAll(async () => {
    ensureRendererBuilt();
    const t = tempDir('appraise-electron-');
    cleanup = t.cleanup;
    const ws = join(t.dir, 'ws');
    // A workspace with data and a small champion, so the window can value a property at once.
    const s = openServices(ws);
    await s.datasets.ingest({ file: kcCsv, config: kcConfigPath, name: 'kc' });
    const m = await s.training.train({ dataset: 'kc', folds: 2, params: { nRounds: 20, learningRate: 0.3 } });
    s.models.promote(m.modelId);
    await s.close();
    app = await electron.launch({ executablePath: binary.path!, args: [mainJs], env: { ...process.env, APPRAISE_WORKSPACE: ws, APPRAISE_UPDATES: 'off' } });
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    cleanup?.();
  });

  it('opens a sandboxed window and values a property through IPC', async () => {
    const win = await app.firstWindow();
    expect(await win.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
    expect(await win.evaluate(() => typeof (globalThis as { appraise?: { invoke?: unknown } }).appraise?.invoke)).toBe('function');
    await win.getByTestId('value-submit').click();
    await win.getByTestId('valuation-result').waitFor({ timeout: 60_000 });
    expect(Number(await win.getByTestId('estimate').getAttribute('data-value'))).toBeGreaterThan(10_000);
    mkdirSync(screenshotDir, { recursive: true });
    await win.screenshot({ path: join(screenshotDir, 'electron-value.png') });
  }, 120_000);
});
