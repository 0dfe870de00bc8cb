import type { Workspace } from '../workspace/workspace.js';
import type { DatasetStore } from '../datasets/dataset-store.js';
import type { DatasetService } from './dataset-service.js';
import { openDatasetServices } from './open-datasets.js';
import { SqliteModelStore } from '../models/sqlite-model-store.js';
import { ModelService } from '../models/model-service.js';
import { TrainingService } from '../training/training-service.js';
import { InteropService } from '../interop/interop-service.js';
import { ValuationService } from '../valuation/valuation-service.js';
import { SqliteValuationHistory } from '../valuation/sqlite-valuation-history.js';
import type { ValuationHistory } from '../valuation/valuation-history.js';
import { SqlitePredictionLog } from '../monitoring/sqlite-prediction-log.js';
import type { PredictionLog } from '../monitoring/prediction-log.js';
import { MonitoringService } from '../monitoring/monitoring-service.js';

/** The domain services of one process, wired onto one workspace. */
export interface AppServices {
  workspace: Workspace;
  datasetStore: DatasetStore;
  datasets: DatasetService;
  models: ModelService;
  training: TrainingService;
  /** Models trained elsewhere: import template, XGBoost/ONNX import, local calibration. */
  interop: InteropService;
  valuation: ValuationService;
  history: ValuationHistory;
  /** Every valuation's input, features and estimate, and the sale prices linked to them later. */
  predictionLog: PredictionLog;
  monitoring: MonitoringService;
  /** Ingests abandoned by a crashed process that were cleaned up on open. */
  recovered: number;
  /** Releases model sessions and the database. */
  close(): Promise<void>;
}

/** Opens the workspace and wires the stores and services onto it: the only place that names the SQLite classes. */
export function openServices(dir?: string): AppServices {
  const { workspace, datasetStore, datasets, recovered } = openDatasetServices(dir);
  const modelStore = new SqliteModelStore(workspace.db, workspace.artifacts);
  const predictionLog = new SqlitePredictionLog(workspace.db);
  const valuation = new ValuationService(datasetStore, modelStore, workspace.db, predictionLog);
  let closing: Promise<void> | null = null;
  return {
    workspace,
    datasetStore,
    datasets,
    models: new ModelService(modelStore),
    training: new TrainingService(datasetStore, modelStore),
    // A calibration changes the record a cached model was loaded from: valuations must read it again.
    interop: new InteropService(datasetStore, modelStore, (id) => valuation.forget(id)),
    valuation,
    history: new SqliteValuationHistory(workspace.db),
    predictionLog,
    monitoring: new MonitoringService(predictionLog, modelStore),
    recovered,
    close: () => (closing ??= valuation.close().finally(() => workspace.close())),
  };
}
