import type { JobControl } from '../common/job-control.js';
import type { JobMethodName, JobProgress, JobResult, ParsedInput } from '../contract/contract.js';
import type { DatasetServiceApi } from '../services/dataset-service.js';
import type { ModelServiceApi } from '../models/model-service.js';
import { bundledDemo, loadDemoData } from '../services/demo-data.js';
import { AppraiseError } from '../common/errors.js';
import type { TrainingServiceApi } from '../training/training-service.js';
import type { ValuationServiceApi } from '../valuation/valuation-service.js';
import type { MonitoringServiceApi } from '../monitoring/monitoring-service.js';

/** The services a job can use; a job thread opens only what its method `needs`. */
export interface JobServices {
  datasets: DatasetServiceApi;
  models?: ModelServiceApi;
  training?: TrainingServiceApi;
  valuation?: ValuationServiceApi;
  monitoring?: MonitoringServiceApi;
}

export interface JobHandler<M extends JobMethodName> {
  /**
   * 'datasets': the workspace and dataset service only (an ingest thread then does not load onnxruntime and the
   * learner, ~0.25 s of every ingest's start, measured); 'all': every service.
   */
  needs: 'datasets' | 'all';
  /** Only one job of this method runs at a time in a process: a second start is refused (CONFLICT). */
  single?: boolean;
  /**
   * Runs on the calling thread before the job starts, with the caller's services: work the job thread cannot see,
   * such as shadow scores this process still has queued.
   */
  beforeStart?(services: JobServices): Promise<void>;
  run(services: JobServices, input: ParsedInput<M>, job: JobControl<JobProgress<M>>): Promise<JobResult<M>>;
}

function need<K extends 'models' | 'training' | 'valuation' | 'monitoring'>(s: JobServices, key: K): NonNullable<JobServices[K]> {
  const service = s[key];
  if (!service) throw new Error(`the ${key} service is not wired in this process`);
  return service as NonNullable<JobServices[K]>;
}

/**
 * What each job method does, whether it runs in a job thread (job-worker.ts) or on the calling thread. A new job
 * method is its contract entry (input, progress, result), its service method, and one entry here.
 */
export const jobHandlers: { [M in JobMethodName]: JobHandler<M> } = {
  'app.loadDemo': {
    needs: 'all',
    async run(s, _input, job) {
      const bundle = bundledDemo();
      if (!bundle) throw new AppraiseError('NOT_FOUND', 'this installation has no bundled demo data; import your own sales on the Data screen');
      return (await loadDemoData({ datasets: s.datasets, models: need(s, 'models') }, bundle, job)).result;
    },
  },
  'datasets.ingest': {
    needs: 'datasets',
    async run(s, { file, config, name }, job) {
      const { quality, ...r } = await s.datasets.ingest({ file, config, name, onProgress: job.onProgress, signal: job.signal });
      return { ...r, duplicateRows: quality.duplicateRows };
    },
  },
  train: { needs: 'all', run: (s, input, job) => need(s, 'training').train(input, job) },
  score: { needs: 'all', run: (s, { model, source, out, columnMap }, job) => need(s, 'valuation').score(model, source, out, job, { columnMap }) },
  // Two retraining steps at once would judge one challenger twice or train two.
  'monitoring.retrain': {
    needs: 'all',
    single: true,
    // The paired test reads the shadow estimates of every valuation so far: this process's queued ones are written first.
    beforeStart: async (s) => await s.monitoring?.settled(),
    run: (s, { policy, since, trigger, force }, job) => need(s, 'monitoring').retrain({ policy, since, trigger, force }, job),
  },
};
