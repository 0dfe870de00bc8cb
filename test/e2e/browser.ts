import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { repoRoot } from '../helpers/temp-workspace.js';

export const CHROMIUM = process.env.APPRAISE_CHROMIUM ?? '/usr/bin/chromium';
export const rendererDist = join(repoRoot, 'renderer', 'dist');
export const screenshotDir = join(repoRoot, 'test-results', 'e2e');

/** Why browser tests cannot run here, or null. */
export function browserSkipReason(): string | null {
  return existsSync(CHROMIUM) ? null : `Debian's Chromium is not installed at ${CHROMIUM} (apt-get install chromium)`;
}

/** Debian's Chromium, headless, with the flags that keep it off the network (this machine has none). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The e2e suite serves the built renderer; builds it once if `npm run build` has not. */
export function ensureRendererBuilt(): void {
  if (existsSync(join(rendererDist, 'index.html'))) return;
  execFileSync(
    process.execPath,
    [join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(repoRoot, 'renderer', 'vite.config.ts')],
    { cwd: repoRoot, stdio: 'inherit' },
  );
}
