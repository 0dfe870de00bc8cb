import { useCallback, useEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import type { JobMethodName, JobResult, MethodInput } from '../../../core/contract/contract.js';
import { useApp } from '../app-context.js';
import type { JobSnapshot } from './job-store.js';

/** A screen's handle on the app's job of one method: its state (see JobSnapshot) and what can be done with it. */
export interface JobHandle<M extends JobMethodName> extends JobSnapshot<M> {
  /** Starts a job (ignored while one of this method runs); settles once the host has taken or refused it. */
  start(input: MethodInput<M>): Promise<void>;
  /** Cancels the running job; it then ends as `cancelled`, which is not an error. */
  cancel(): Promise<void>;
  /** Forgets a finished job: back to `idle`. */
  reset(): void;
}

export interface UseJobOptions<M extends JobMethodName> {
  /**
   * Called once for each job of this method that finishes while the calling component is mounted, including
   * one started before it was (the user left the screen and came back). Not called for a job that had already
   * finished when the component mounted.
   */
  onDone?: (result: JobResult<M>) => void;
}

/**
 * The job of one method (`'datasets.ingest'`, `'train'`, `'score'`), typed from the contract. The state lives
 * in the app's JobStore, not in the screen: leaving a screen and coming back, or reloading the page while the
 * job runs, finds it where it is.
 */
export function useJob<M extends JobMethodName>(method: M, options: UseJobOptions<M> = {}): JobHandle<M> {
  const { jobs } = useApp();
  const snapshot = useSyncExternalStore(
    jobs.subscribe,
    useCallback(() => jobs.get(method), [jobs, method]),
  );

  const seen = useRef(snapshot.result);
  const onDone = useRef(options.onDone);
  useEffect(() => {
    onDone.current = options.onDone;
  });
  useEffect(() => {
    if (snapshot.state !== 'done' || snapshot.result === null || snapshot.result === seen.current) return;
    seen.current = snapshot.result;
    onDone.current?.(snapshot.result);
  }, [snapshot.state, snapshot.result]);

  return useMemo(
    () => ({
      ...snapshot,
      start: (input: MethodInput<M>) => jobs.start(method, input),
      cancel: () => jobs.cancel(method),
      reset: () => jobs.reset(method),
    }),
    [snapshot, jobs, method],
  );
}
