import type { Workspace } from '../workspace/workspace.js';
import type { DatasetStore } from '../datasets/dataset-store.js';
import type { DatasetService } from './dataset-service.js';
import { openDatasetServices, type OpenServicesOptions } from './open-datasets.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { SqliteModelStore } from '../models/sqlite-model-store.js';
import { ModelService } from '../models/model-service.js';
import { TrainingService } from '../training/training-service.js';
import { MarketService } from '../training/market-service.js';
import { InteropService } from '../interop/interop-service.js';
import { ValuationService } from '../valuation/valuation-service.js';
import { SqliteValuationHistory } from '../valuation/sqlite-valuation-history.js';
import type { ValuationHistory } from '../valuation/valuation-history.js';
import { SqliteReportSettings, type ReportSettingsApi } from '../valuation/report-settings.js';
import { SqlitePredictionLog } from '../monitoring/sqlite-prediction-log.js';
import type { PredictionLog } from '../monitoring/prediction-log.js';
import { MonitoringService } from '../monitoring/monitoring-service.js';
import { SqliteMonitoringStore } from '../monitoring/sqlite-monitoring-store.js';
import { ShadowScoringSink } from '../monitoring/shadow-scoring.js';
import { ReviewSampler } from '../monitoring/review-sampling.js';
import { SqliteReviewStore } from '../monitoring/sqlite-review-store.js';

/** The domain services of one process, wired onto one workspace. */
export interface AppServices {
  workspace: Workspace;
  datasetStore: DatasetStore;
  datasets: DatasetService;
  models: ModelService;
  training: TrainingService;
  /** The local price index of a model or dataset (core/market), for the Market page. */
  market: MarketService;
  /** Models trained elsewhere: import template, XGBoost/ONNX import, local calibration. */
  interop: InteropService;
  valuation: ValuationService;
  history: ValuationHistory;
  /** The report texts, rounding and appraiser defaults every report of this workspace prints. */
  settings: ReportSettingsApi;
  /** Every valuation's input, features and estimate, and the sale prices linked to them later. */
  predictionLog: PredictionLog;
  monitoring: MonitoringService;
  /** The workspace's append-only audit trail (core/audit), writing as this process's actor. */
  audit: AuditTrail;
  /** Ingests abandoned by a crashed process that were cleaned up on open. */
  recovered: number;
  /** Releases model sessions and the database. */
  close(): Promise<void>;
}

/** Opens the workspace and wires the stores and services onto it: the only place that names the SQLite classes. */
export function openServices(dir?: string, options: OpenServicesOptions = {}): AppServices {
  const { workspace, datasetStore, datasets, audit, recovered } = openDatasetServices(dir, options);
  const modelStore = new SqliteModelStore(workspace.db, workspace.artifacts);
  const predictionLog = new SqlitePredictionLog(workspace.db);
  const monitoringStore = new SqliteMonitoringStore(workspace.db);
  // Logs each valuation and scores the challengers in shadow on it afterwards (core/monitoring/shadow-scoring.ts).
  // …and draws a share of them into the random sample review queue (core/monitoring/review-sampling.ts).
  const reviewStore = new SqliteReviewStore(workspace.db);
  const shadow = new ShadowScoringSink(predictionLog, monitoringStore, modelStore, new ReviewSampler(reviewStore, modelStore));
  const valuation = new ValuationService(datasetStore, modelStore, workspace.db, shadow, audit, () => workspace.openConnection());
  const training = new TrainingService(datasetStore, modelStore, audit);
  const modelService = new ModelService(modelStore, audit);
  let closing: Promise<void> | null = null;
  return {
    workspace,
    datasetStore,
    datasets,
    models: modelService,
    training,
    market: new MarketService(datasetStore, modelStore),
    // A calibration changes the record a cached model was loaded from: valuations must read it again.
    interop: new InteropService(datasetStore, modelStore, (id) => valuation.forget(id), audit),
    valuation,
    history: new SqliteValuationHistory(workspace.db, audit),
    settings: new SqliteReportSettings(workspace.db, audit),
    predictionLog,
    // Promotions and archiving by the retraining policy go through the model service, so they are audited too.
    monitoring: new MonitoringService(predictionLog, modelStore, {
      store: monitoringStore,
      shadow,
      training,
      registry: modelService,
      audit,
      reviews: reviewStore,
    }),
    audit,
    recovered,
    // Shadow scores still queued are written before the database closes.
    close: () =>
      (closing ??= shadow
        .idle()
        .then(() => valuation.close())
        .finally(() => workspace.close())),
  };
}
