import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppraiseError } from '../common/errors.js';
import type { JobControl } from '../common/job-control.js';
import type { IngestProgress, IngestResult } from '../ingest/ingest-schemas.js';
import type { DatasetServiceApi } from './dataset-service.js';
import type { ModelServiceApi } from '../models/model-service.js';
import type { DemoLoadResult } from './demo-schemas.js';

/** The bundled King County demo: the sales, their YAML config, and the folder of the model trained on them. */
export interface DemoBundle {
  csv: string;
  config: string;
  /** Holds model.onnx and manifest.json; the model part is skipped when they are missing. */
  modelDir: string;
}

/**
 * The demo bundled with this installation, or null when it is not there. Found from this file (core/services in
 * the sources, dist/core/services when built) rather than from core/app, so a job thread (core/jobs) can use it.
 */
export function bundledDemo(): DemoBundle | null {
  for (const rel of ['../../', '../../../']) {
    const root = fileURLToPath(new URL(rel, import.meta.url));
    const csv = join(root, 'data', 'kc_house_sales.csv');
    const config = join(root, 'config', 'king-county.yaml');
    if (existsSync(join(root, 'package.json')) && existsSync(csv) && existsSync(config)) return { csv, config, modelDir: join(root, 'models', 'king-county') };
  }
  return null;
}

/**
 * Makes a workspace ready to value: the demo sales ingested (reused when already there) and the bundled model
 * imported and promoted when there is no champion yet — an appraiser's own champion is never replaced. Idempotent.
 */
export async function loadDemoData(
  s: { datasets: Pick<DatasetServiceApi, 'ingest'>; models: Pick<ModelServiceApi, 'list' | 'importFrom' | 'promote'> },
  bundle: DemoBundle,
  job: JobControl<IngestProgress> & { name?: string } = {},
): Promise<{ ingest: IngestResult; result: DemoLoadResult }> {
  const started = performance.now();
  const name = job.name ?? 'king-county-demo';
  const ingest = await s.datasets.ingest({ file: bundle.csv, config: bundle.config, name, onProgress: job.onProgress, signal: job.signal });
  if (job.signal?.aborted) throw new AppraiseError('CANCELLED', 'loading the demo was cancelled after its data was imported; the model was not installed');
  let importedModel: DemoLoadResult['importedModel'] = null;
  const onnx = join(bundle.modelDir, 'model.onnx');
  const manifest = join(bundle.modelDir, 'manifest.json');
  if (!s.models.list().some((m) => m.status === 'champion') && existsSync(onnx) && existsSync(manifest)) {
    const m = s.models.importFrom(onnx, manifest);
    s.models.promote(m.id);
    importedModel = { id: m.id, name: m.name };
  }
  const champion = s.models.list().find((m) => m.status === 'champion') ?? null;
  return {
    ingest,
    result: {
      datasetId: ingest.datasetId,
      datasetName: ingest.name,
      rowsAccepted: ingest.rowsAccepted,
      rowsQuarantined: ingest.rowsQuarantined,
      reused: ingest.reused,
      importedModel,
      championId: champion?.id ?? null,
      seconds: (performance.now() - started) / 1000,
    },
  };
}
