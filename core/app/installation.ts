import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installation folder, from both core/app (sources) and dist/core/app (built). */
export function repoRoot(): string {
  for (const rel of ['../../', '../../../']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'config'))) return dir;
  }
  throw new Error('cannot locate the Appraise installation folder');
}

export interface InstallationPaths {
  /** The built renderer (renderer/dist), or null when it is not built. */
  staticDir: string | null;
  /** The bundled King County demo data, when this installation has it. */
  demo: { csv: string; config: string } | null;
}

/** The bundled demo data and the built renderer, found from the installation folder. */
export function installationPaths(): InstallationPaths {
  const root = repoRoot();
  const staticDir = join(root, 'renderer', 'dist');
  const csv = join(root, 'data', 'kc_house_sales.csv');
  const config = join(root, 'config', 'king-county.yaml');
  return { staticDir: existsSync(join(staticDir, 'index.html')) ? staticDir : null, demo: existsSync(csv) && existsSync(config) ? { csv, config } : null };
}
