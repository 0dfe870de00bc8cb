import { loadConfigFile, type LoadedConfig } from '../config/load-config.js';
import { fileAccess } from '../common/file-access.js';
import { ingestCsv, type IngestOptions, type IngestTarget } from '../ingest/ingest-csv.js';
import type { IngestProgress, IngestResult } from '../ingest/ingest-schemas.js';
import type { DatasetStore, DatasetVersion } from '../datasets/dataset-store.js';
import type { DatasetSummary, QuarantinePage } from '../datasets/dataset-schemas.js';
import { auditedAsync, auditedSync, type AuditTrail } from '../audit/audit-trail.js';

export interface IngestRequest extends Pick<IngestOptions, 'readerThread'> {
  file: string;
  /** A config file's path, or a config already loaded. */
  config: string | LoadedConfig;
  name?: string;
  onProgress?: (p: IngestProgress) => void;
  signal?: AbortSignal;
}

/** Everything the CLI, the app and the web host do with datasets. */
export interface DatasetServiceApi {
  ingest(input: IngestRequest): Promise<IngestResult>;
  /** Newest first. */
  list(): DatasetSummary[];
  /** Id, unique id prefix or name. */
  get(ref: string): DatasetVersion;
  /** The most recently ingested version, or null in an empty workspace. */
  newest(): DatasetVersion | null;
  delete(ref: string): DatasetSummary;
  quarantine(ref: string, limit?: number, offset?: number): QuarantinePage;
}

export class DatasetService implements DatasetServiceApi {
  private readonly store: DatasetStore;

  /** `target` is the workspace connection rows are staged through and the store that registers versions. */
  constructor(
    private readonly target: IngestTarget,
    /** Where ingests and deletions are recorded (core/audit); none: not recorded. */
    private readonly audit?: AuditTrail,
  ) {
    this.store = target.datasets;
  }

  async ingest(input: IngestRequest): Promise<IngestResult> {
    const ids = { file: input.file, config: typeof input.config === 'string' ? input.config : input.config.source, name: input.name };
    return auditedAsync(
      this.audit,
      'dataset.ingest',
      ids,
      () => {
        // On a confined host (the web host) the API reads only the folders chosen at start (issue 14, #5).
        fileAccess().checkRead(input.file, 'the sales file');
        if (typeof input.config === 'string') fileAccess().checkRead(input.config, 'the configuration file');
        const config = typeof input.config === 'string' ? loadConfigFile(input.config) : input.config;
        return ingestCsv(this.target, {
          file: input.file,
          config,
          name: input.name,
          onProgress: input.onProgress,
          signal: input.signal,
          readerThread: input.readerThread,
        });
      },
      (r) => ({ dataset: r.datasetId, rowsAccepted: r.rowsAccepted, rowsQuarantined: r.rowsQuarantined }),
    );
  }

  list(): DatasetSummary[] {
    return this.store.list().map(summarize);
  }

  get(ref: string): DatasetVersion {
    return this.store.get(ref);
  }

  newest(): DatasetVersion | null {
    return this.store.list()[0] ?? null;
  }

  delete(ref: string): DatasetSummary {
    return auditedSync(
      this.audit,
      'dataset.delete',
      { ref },
      () => summarize(this.store.delete(ref)),
      (d) => ({ dataset: d.id, name: d.name }),
    );
  }

  quarantine(ref: string, limit?: number, offset?: number): QuarantinePage {
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
