import { openServices, type AppServices } from '../services/open-workspace.js';
import { ApiDispatcher } from '../api/dispatcher.js';
import { JobTracker } from '../jobs/job-tracker.js';
import { JobRunner } from '../jobs/job-runner.js';
import { prepareDemoWorkspace } from './demo-workspace.js';
import { openLogger, silentLogger, type ProcessLogger } from '../logging/logger.js';
import { logsDir } from '../logging/log-record.js';
import { forwardWorkerLog } from '../logging/worker-log.js';

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
}

/** One process's API host: the services, the job tracker and runner, and the dispatcher wired onto them. */
export interface AppHost {
  services: AppServices;
  jobs: JobTracker;
  dispatcher: ApiDispatcher;
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
  const services = options.services ?? openServices(options.workspace);
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
  const runner = options.jobsInWorkers === false ? null : new JobRunner(services.workspace.dir, (line) => forwardWorkerLog(log.logger, line), log.logger.level);
  const dispatcher = new ApiDispatcher({
    services: {
      workspaceDir: services.workspace.dir,
      datasets: services.datasets,
      history: services.history,
      models: services.models,
      training: services.training,
      valuation: services.valuation,
      monitoring: services.monitoring,
    },
    jobs,
    runner,
    validateOutput: options.validateOutput ?? process.env.NODE_ENV !== 'production',
    demo: options.demo ?? null,
    logger: log.logger,
  });
  let closing: Promise<void> | null = null;
  return {
    services,
    jobs,
    dispatcher,
    log,
    close: () =>
      (closing ??= (async () => {
        jobs.close();
        await runner?.close();
        if (ownsServices) await services.close();
        log.logger.info('app host stopped');
        await log.close();
      })()),
  };
}
