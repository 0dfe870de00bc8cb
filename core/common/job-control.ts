/**
 * How long work (ingest, training, scoring) is driven: it reports progress through the callback and stops when
 * the signal aborts, then throws CANCELLED having written nothing half-done.
 */
export interface JobControl<P> {
  onProgress?: (p: P) => void;
  signal?: AbortSignal;
}
