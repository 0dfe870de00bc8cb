import type { SerializedError } from '../common/errors.js';
import type { TrainRequest } from '../services/service-types.js';
import type { IngestResult } from '../ingest/ingest-csv.js';

/** Long-running work that runs off the calling thread, with its own connection to the workspace. */
export type JobRequest =
  | { kind: 'ingest'; file: string; config: string; name?: string }
  | { kind: 'train'; request: TrainRequest }
  | { kind: 'score'; model: string; source: string; out: string; columnMap?: Record<string, string> };

export interface JobStart {
  workspaceDir: string;
  job: JobRequest;
}

/** Messages from the job thread to its owner. */
export type JobMessage =
  | { type: 'progress'; progress: unknown }
  | { type: 'done'; result: unknown }
  | { type: 'failed'; error: SerializedError };

/** Messages from the owner to the job thread. */
export type JobCommand = { type: 'cancel' };

/** An ingest job's result: the ingest result without the full quality report (read it from the dataset). */
export type IngestJobResult = Omit<IngestResult, 'quality'> & { duplicateRows: number | null };
