import type { Workspace } from '../workspace/workspace.js';
import { loadConfigFile, type LoadedConfig } from '../config/load-config.js';
import { ingestCsv, type IngestOptions, type IngestProgress, type IngestResult } from '../ingest/ingest-csv.js';
import { SqliteDatasetStore, type DatasetVersion } from '../datasets/dataset-store.js';

export interface DatasetSummary {
  id: string;
  name: string;
  rows: number;
  columns: number;
  config: string;
  createdAt: string;
  source: string | null;
  quarantined: number;
}

/** Everything the CLI, the app and the web host do with datasets. */
export class DatasetService {
  readonly store: SqliteDatasetStore;

  constructor(private readonly ws: Workspace) {
    this.store = new SqliteDatasetStore(ws.db);
  }

  async ingest(
    input: { file: string; config: string | LoadedConfig; name?: string; onProgress?: (p: IngestProgress) => void; signal?: AbortSignal } & Pick<IngestOptions, 'readerThread'>,
  ): Promise<IngestResult> {
    const config = typeof input.config === 'string' ? loadConfigFile(input.config) : input.config;
    return ingestCsv(this.ws, { file: input.file, config, name: input.name, onProgress: input.onProgress, signal: input.signal, readerThread: input.readerThread });
  }

  list(): DatasetSummary[] {
    return this.store.list().map(summarize);
  }

  get(ref: string): DatasetVersion {
    return this.store.get(ref);
  }

  delete(ref: string): DatasetSummary {
    return summarize(this.store.delete(ref));
  }

  quarantine(ref: string, limit?: number, offset?: number) {
    return this.store.quarantine(ref, limit, offset);
  }
}

export function summarize(d: DatasetVersion): DatasetSummary {
  return {
    id: d.id,
    name: d.name,
    rows: d.rowCount,
    columns: d.columns.length,
    config: d.configName,
    createdAt: d.createdAt,
    source: d.sourcePath,
    quarantined: d.quality?.rowsQuarantined ?? 0,
  };
}
