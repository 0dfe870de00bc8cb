import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openServices } from '../core/services/open-workspace.js';
import type { TrainResult } from '../core/training/training-schemas.js';

/**
 * The accuracy a user gets from the product itself: `appraise ingest` of the KC file with config/king-county.yaml,
 * then `appraise train --folds-file ../shared/anchors/folds_kc.csv` with default parameters (derived features
 * included). Returns null when the anchors' folds file is not beside the repository.
 */
export async function pipelineAccuracyOnKc(threads?: number): Promise<TrainResult | null> {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const folds = join(root, '..', 'shared', 'anchors', 'folds_kc.csv');
  if (!existsSync(folds)) return null;
  const dir = mkdtempSync(join(tmpdir(), 'appraise-bench-acc-'));
  const s = openServices(join(dir, 'ws'));
  try {
    const ds = await s.datasets.ingest({ file: join(root, 'data', 'kc_house_sales.csv'), config: join(root, 'config', 'king-county.yaml') });
    return await s.training.train({ dataset: ds.datasetId, foldsFile: folds, threads });
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
