import type { MonitoringServiceApi, ScheduledCheck } from './monitoring-service.js';

/** Time and timers, injected so tests move the clock instead of sleeping. */
export interface SchedulerClock {
  now(): Date;
  /** Calls `fn` after `ms`; returns a function that cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export const systemClock: SchedulerClock = {
  now: () => new Date(),
  after: (ms, fn) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return () => clearTimeout(t);
  },
};

/** How often the schedule is re-read while nothing is due: a CLI may change it while the app is open. */
const RECHECK_MS = 3_600_000;

/**
 * Runs the periodic monitoring checks while the app is open, and after a check whose alerts call for it, one step
 * of the retraining policy as a background job (owned by the app host; `stop()` on close). On start
 * a check that fell due while the app was closed runs once; then one per interval. Never two at once: a tick that
 * finds one running does nothing, and the workspace claim in `runScheduledCheck` keeps other processes out.
 */
export class MonitoringScheduler {
  private cancel: (() => void) | null = null;
  private running = false;
  private stopped = true;

  constructor(
    private readonly monitoring: Pick<MonitoringServiceApi, 'runScheduledCheck' | 'schedule' | 'retrainDue'>,
    private readonly options: {
      clock?: SchedulerClock;
      /** Delay before the first look after `start()` (default a minute). */
      firstDelayMs?: number;
      onCheck?: (c: ScheduledCheck) => void;
      /**
       * Starts the retraining job (the same job as the app's Retrain now and `appraise monitor retrain`), called
       * after a check that ran when `retrainDue` says its alerts call for a step; absent: checks only.
       */
      startRetrain?: () => void;
      onError?: (e: unknown) => void;
    } = {},
  ) {}

  private get clock(): SchedulerClock {
    return this.options.clock ?? systemClock;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.arm(this.options.firstDelayMs ?? 60_000);
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = null;
  }

  /** Runs the check if due; null when one is already running in this process. */
  tick(): ScheduledCheck | null {
    if (this.running) return null;
    this.running = true;
    try {
      const c = this.monitoring.runScheduledCheck(this.clock.now());
      this.options.onCheck?.(c);
      if (c.ran && this.options.startRetrain && this.monitoring.retrainDue(c.alerts)) this.options.startRetrain();
      return c;
    } catch (e) {
      this.options.onError?.(e);
      return null;
    } finally {
      this.running = false;
    }
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    this.cancel = this.clock.after(ms, () => {
      this.cancel = null;
      this.tick();
      this.arm(this.delayToNext());
    });
  }

  private delayToNext(): number {
    try {
      const next = this.monitoring.schedule().nextDueAt;
      if (next === null) return RECHECK_MS;
      return Math.min(RECHECK_MS, Math.max(1000, Date.parse(next) - this.clock.now().getTime()));
    } catch (e) {
      this.options.onError?.(e);
      return RECHECK_MS;
    }
  }
}
