import { join } from 'node:path';
import type { AppServices } from '../services/open-workspace.js';
import { loadDemoData } from '../services/demo-data.js';
import type { IngestResult } from '../ingest/ingest-schemas.js';
import { repoRoot } from './installation.js';

/** A house from the bundled data, as an appraiser would type it (no price, valued today). */
export const DEMO_HOUSE = {
  bedrooms: '3',
  bathrooms: '2.25',
  sqft_living: '2570',
  sqft_lot: '7242',
  floors: '2',
  waterfront: '0',
  view: '0',
  condition: '3',
  grade: '7',
  sqft_above: '2170',
  sqft_basement: '400',
  yr_built: '1951',
  yr_renovated: '1991',
  zipcode: '98125',
  lat: '47.721',
  long: '-122.319',
  sqft_living15: '1690',
  sqft_lot15: '7639',
};

/**
 * Makes a workspace ready to use: the bundled King County sales ingested and the bundled model imported and
 * promoted (when there is no champion yet). Idempotent; used by `appraise demo` and `serve --demo` (the window's
 * first run is the `app.loadDemo` job, which runs the same `loadDemoData`).
 */
export async function prepareDemoWorkspace(
  s: Pick<AppServices, 'datasets' | 'models'>,
  onProgress?: (bytes: number, total: number, rows: number) => void,
): Promise<{ ingest: IngestResult; imported: string | null }> {
  const root = repoRoot();
  const bundle = {
    csv: join(root, 'data', 'kc_house_sales.csv'),
    config: join(root, 'config', 'king-county.yaml'),
    modelDir: join(root, 'models', 'king-county'),
  };
  const { ingest, result } = await loadDemoData(s, bundle, { name: 'king-county', onProgress: (p) => onProgress?.(p.bytesRead, p.totalBytes, p.rowsAccepted) });
  return { ingest, imported: result.importedModel ? `${result.importedModel.name} ${result.importedModel.id.slice(0, 12)}` : null };
}
