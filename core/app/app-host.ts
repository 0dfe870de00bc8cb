import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openServices, type AppServices } from '../services/open-workspace.js';
import { FileAccess, installFileAccess } from '../common/file-access.js';
import { ApiDispatcher } from '../api/dispatcher.js';
import { JobTracker } from '../jobs/job-tracker.js';
import { JobRunner } from '../jobs/job-runner.js';
import { prepareDemoWorkspace } from './demo-workspace.js';
import { openLogger, silentLogger, type ProcessLogger } from '../logging/logger.js';
import { logsDir } from '../logging/log-record.js';
import { forwardWorkerLog } from '../logging/worker-log.js';
import type { SyncService } from '../sync/sync-service.js';
import { workspaceSyncService } from '../sync/workspace-sync-service.js';
import type { Role } from '../contract/roles.js';
import { osActor } from '../audit/audit-trail.js';
import { MonitoringScheduler, type SchedulerClock } from '../monitoring/monitoring-scheduler.js';
import { SessionLock } from '../api/session-lock.js';
import { idleLockVerifier } from './idle-lock.js';

export interface AppHostOptions {
  /** Workspace folder; default: APPRAISE_WORKSPACE or the OS user-data folder. */
  workspace?: string;
  /** Services already opened by the caller (tests); the host then does not open or close a workspace. */
  services?: AppServices;
  /** The bundled demo, offered to the window on first run. */
  demo?: { csv: string; config: string } | null;
  /** On an empty workspace, import the demo data and model (champion) before serving. */
  prepareDemo?: boolean;
  /** Validate every API output against the contract. Default: on unless NODE_ENV=production. */
  validateOutput?: boolean;
  /** Run ingest, training and scoring in worker threads (default) or on this thread (fakes in tests). */
  jobsInWorkers?: boolean;
  /** Written as `process` on every log line; 'none' logs nothing (tests that do not look at logs). Default 'web'. */
  processName?: 'web' | 'core-host' | 'none';
  /** Told before the demo is imported on first run (it takes a few seconds). */
  onPreparingDemo?: () => void;
  /**
   * Sync with the registry. The background cycle starts only on an enrolled workspace; `background: false` leaves
   * it off (sync.now still works). Interval default: APPRAISE_SYNC_INTERVAL_MINUTES, else 15 minutes.
   */
  /** `appVersion`: the running app's version, so sync checks the registry for app updates (default $APPRAISE_APP_VERSION). */
  sync?: { background?: boolean; intervalMs?: number; firstDelayMs?: number; appVersion?: string };
  /**
   * Confine the API's file reads and writes (issue 14, #5; core/common/file-access.ts) to the workspace's `files/`
   * folder (created), `allowDirs`, and — for reading only — `readOnlyDirs` (the bundled demo). Never into the rest
   * of the workspace folder. Absent: unconfined (the CLI; the desktop app, whose files come from file dialogs).
   * Installed for this process until `close()`.
   */
  confine?: { allowDirs: string[]; readOnlyDirs?: string[] };
  /**
   * The role of this host's API session (core/contract/roles.ts), checked on every call; the audit trail names the
   * OS user with it. Default: analyst (everything allowed), as before roles existed.
   */
  role?: Role;
  /**
   * App lock after idle (core/api/session-lock.ts): after `timeoutMs` without a call, every call answers LOCKED
   * until `session.unlock` gets the passphrase. `verify` default: the workspace passphrase when the workspace is
   * encrypted, else $APPRAISE_LOCK_PASSPHRASE (start fails with INVALID_INPUT when there is neither). Absent: no lock.
   */
  idleLock?: { timeoutMs: number; verify?: (secret: string) => boolean; now?: () => number };
  /**
   * The periodic monitoring checks (core/monitoring/monitoring-scheduler.ts; `appraise monitor schedule`). The
   * first look is `firstDelayMs` after start (default a minute, so opening the app is not slowed), then as due.
   * `background: false` leaves them off; `clock` is for tests.
   */
  monitoringChecks?: { background?: boolean; firstDelayMs?: number; clock?: SchedulerClock };
}

/** One process's API host: the services, the job tracker and runner, and the dispatcher wired onto them. */
export interface AppHost {
  services: AppServices;
  jobs: JobTracker;
  dispatcher: ApiDispatcher;
  /** Sync with the registry (pull models, push reports); closed by `close()` before the services. */
  sync: SyncService;
  /** This process's logger (JSON lines in the workspace's logs/). */
  log: ProcessLogger;
  /** Cancels jobs and ends their threads, then closes the services it opened. Idempotent. */
  close(): Promise<void>;
}

/**
 * The composition root of every process that serves the API — `appraise serve`, the Electron core host and the
 * tests: it is the only place that decides which store, runner and options the dispatcher gets.
 */
export async function createAppHost(options: AppHostOptions = {}): Promise<AppHost> {
  const services = options.services ?? openServices(options.workspace, { actor: `${osActor()} (${options.role ?? 'analyst'})` });
  const ownsServices = !options.services;
  try {
    if (options.prepareDemo && services.datasets.list().length === 0) {
      options.onPreparingDemo?.();
      await prepareDemoWorkspace(services);
    }
  } catch (e) {
    if (ownsServices) await services.close();
    throw e;
  }
  const log =
    options.processName === 'none'
      ? silentLogger()
      : await openLogger({ dir: logsDir(services.workspace.dir), processName: options.processName ?? 'web', level: process.env.APPRAISE_LOG_LEVEL });
  log.logger.info({ workspace: services.workspace.dir, recovered: services.recovered }, 'app host started');
  const jobs = new JobTracker(log.logger);
  const previousFileAccess = options.confine ? installFileAccess(confinedFileAccess(services.workspace.dir, options.confine)) : null;
  const envMinutes = Number(process.env.APPRAISE_SYNC_INTERVAL_MINUTES);
  const sync = workspaceSyncService(services, {
    intervalMs: options.sync?.intervalMs ?? (envMinutes > 0 ? envMinutes * 60_000 : undefined),
    firstDelayMs: options.sync?.firstDelayMs,
    logger: log.logger,
    appVersion: options.sync?.appVersion ?? (process.env.APPRAISE_APP_VERSION || undefined),
  });
  if (options.sync?.background !== false) sync.startIfEnrolled();
  const runner =
    options.jobsInWorkers === false
      ? null
      : new JobRunner(services.workspace.dir, (line) => forwardWorkerLog(log.logger, line), log.logger.level, services.audit.actor);
  const dispatcher = new ApiDispatcher({
    services: {
      workspaceDir: services.workspace.dir,
      datasets: services.datasets,
      history: services.history,
      models: services.models,
      training: services.training,
      valuation: services.valuation,
      monitoring: services.monitoring,
      market: services.market,
      sync,
      settings: services.settings,
    },
    jobs,
    runner,
    validateOutput: options.validateOutput ?? process.env.NODE_ENV !== 'production',
    demo: options.demo ?? null,
    logger: log.logger,
    role: options.role,
    audit: services.audit,
    lock: options.idleLock
      ? new SessionLock({
          idleTimeoutMs: options.idleLock.timeoutMs,
          verify: options.idleLock.verify ?? idleLockVerifier(services.workspace.dir),
          audit: services.audit,
          now: options.idleLock.now,
        })
      : null,
  });
  const checks = new MonitoringScheduler(services.monitoring, {
    clock: options.monitoringChecks?.clock,
    firstDelayMs: options.monitoringChecks?.firstDelayMs,
    onCheck: (c) => {
      if (c.ran) log.logger.info({ alerts: c.alerts.length, at: c.at }, 'scheduled monitoring check ran');
    },
    // The same job a person starts (Retrain now), so its progress, history and cancel are the same too.
    startRetrain: () => {
      if (jobs.list().some((j) => j.method === 'monitoring.retrain' && j.state === 'running')) return;
      const { jobId } = dispatcher.startOwnJob('monitoring.retrain', { trigger: 'schedule' });
      log.logger.info({ jobId }, 'scheduled retraining step started');
    },
    onError: (e) => log.logger.warn({ err: e }, 'scheduled monitoring check failed'),
  });
  if (options.monitoringChecks?.background !== false) checks.start();
  let closing: Promise<void> | null = null;
  return {
    services,
    jobs,
    dispatcher,
    sync,
    log,
    close: () =>
      (closing ??= (async () => {
        // First: a running sync cycle writes to the workspace, which is closed below.
        await sync.close();
        checks.stop();
        jobs.close();
        await runner?.close();
        if (ownsServices) await services.close();
        if (previousFileAccess) installFileAccess(previousFileAccess);
        log.logger.info('app host stopped');
        await log.close();
      })()),
  };
}

/** The web host's policy: the workspace's files/ folder and the chosen folders; the rest of the workspace never. */
function confinedFileAccess(workspaceDir: string, confine: { allowDirs: string[]; readOnlyDirs?: string[] }): FileAccess {
  const files = join(workspaceDir, 'files');
  mkdirSync(files, { recursive: true });
  return new FileAccess({
    writeDirs: [files, ...confine.allowDirs.map((d) => resolve(d))],
    readDirs: (confine.readOnlyDirs ?? []).map((d) => resolve(d)),
    protectedDirs: [workspaceDir],
    howToAllow: 'restart the web host with: appraise serve --allow-dir "FOLDER" (repeatable)',
  });
}
