import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openServices, type AppServices } from '../../core/services/open-workspace.js';
import { loadConfigFile } from '../../core/config/load-config.js';
import { createAppHost, type AppHost, type AppHostOptions } from '../../core/app/app-host.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const kcCsv = join(repoRoot, 'data', 'kc_house_sales.csv');
export const kcConfigPath = join(repoRoot, 'config', 'king-county.yaml');
export const kcConfig = () => loadConfigFile(kcConfigPath);

/** A fresh folder under the OS temp dir, removed by the returned cleanup. */
export function tempDir(prefix = 'appraise-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Real services on a real SQLite workspace in a temp folder. */
export function tempServices(): AppServices & { dir: string; cleanup: () => Promise<void> } {
  const { dir, cleanup } = tempDir();
  const s = openServices(join(dir, 'ws'));
  return Object.assign(s, {
    dir,
    cleanup: async () => {
      await s.close();
      cleanup();
    },
  });
}

/**
 * The app host every transport test runs on: real services on a temp workspace, outputs validated against the
 * contract. `close()` ends the host's jobs; `cleanup()` also closes the services and removes the folder.
 */
export async function tempAppHost(
  options: Omit<AppHostOptions, 'services' | 'workspace'> = {},
): Promise<AppHost & { dir: string; cleanup: () => Promise<void> }> {
  const services = tempServices();
  const host = await createAppHost({ validateOutput: true, ...options, services });
  return Object.assign(host, {
    dir: services.dir,
    cleanup: async () => {
      await host.close();
      await services.cleanup();
    },
  });
}
