/**
 * How long work (ingest, training, scoring) is driven: it reports progress through the callback and stops when
 * the signal aborts, then throws CANCELLED having written nothing half-done.
 */
export interface JobControl<P> {
  onProgress?: (p: P) => void;
  signal?: AbortSignal;
  /** The job tracker's id of this run, when it runs as a job (batch scores are logged with it). */
  jobId?: string;
}
