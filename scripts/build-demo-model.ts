/**
 * Builds the default King County model shipped in models/king-county/: ingests the bundled sales into a fresh
 * temporary workspace, trains with the tool's default parameters (5-fold CV, seed 42) and exports ONNX + manifest
 * + ensemble. Run with `npm run build:model`; the output is deterministic for a given learner version.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openServices } from '../core/services/open-workspace.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const out = join(root, 'models', 'king-county');
const tmp = mkdtempSync(join(tmpdir(), 'appraise-demo-model-'));
const s = openServices(join(tmp, 'ws'));
try {
  const ds = await s.datasets.ingest({ file: join(root, 'data', 'kc_house_sales.csv'), config: join(root, 'config', 'king-county.yaml'), name: 'king-county' });
  let last = '';
  const r = await s.training.train(
    { dataset: ds.datasetId, folds: 5, seed: 42, name: 'king-county-default' },
    {
      onProgress: (p) => {
        // Folds run in parallel and their updates interleave: report phases only.
        if (p.phase !== last) process.stderr.write(`${p.phase}\n`);
        last = p.phase;
      },
    },
  );
  s.models.exportTo(r.modelId, out);
  console.log(
    `model ${r.modelId} → ${out}\nCV RMSE log ${r.cv.rmseLog.toFixed(4)}, MdAPE ${(r.cv.mdape * 100).toFixed(1)}%, ${r.nTrees} trees, ${r.trainSeconds.toFixed(0)} s`,
  );
} finally {
  await s.close();
  rmSync(tmp, { recursive: true, force: true });
}
