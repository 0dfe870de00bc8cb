import type { Workspace } from '../workspace/workspace.js';
import type { DatasetStore } from '../datasets/dataset-store.js';
import type { DatasetService } from './dataset-service.js';
import { openDatasetServices } from './open-datasets.js';
import { SqliteModelStore } from '../models/sqlite-model-store.js';
import { ModelService } from '../models/model-service.js';
import { TrainingService } from '../training/training-service.js';
import { ValuationService } from '../valuation/valuation-service.js';
import { SqliteValuationHistory } from '../valuation/sqlite-valuation-history.js';
import type { ValuationHistory } from '../valuation/valuation-history.js';

/** The domain services of one process, wired onto one workspace. */
export interface AppServices {
  workspace: Workspace;
  datasetStore: DatasetStore;
  datasets: DatasetService;
  models: ModelService;
  training: TrainingService;
  valuation: ValuationService;
  history: ValuationHistory;
  /** Ingests abandoned by a crashed process that were cleaned up on open. */
  recovered: number;
  /** Releases model sessions and the database. */
  close(): Promise<void>;
}

/** Opens the workspace and wires the stores and services onto it: the only place that names the SQLite classes. */
export function openServices(dir?: string): AppServices {
  const { workspace, datasetStore, datasets, recovered } = openDatasetServices(dir);
  const modelStore = new SqliteModelStore(workspace.db, workspace.artifacts);
  const valuation = new ValuationService(datasetStore, modelStore, workspace.db);
  let closing: Promise<void> | null = null;
  return {
    workspace,
    datasetStore,
    datasets,
    models: new ModelService(modelStore),
    training: new TrainingService(datasetStore, modelStore),
    valuation,
    history: new SqliteValuationHistory(workspace.db),
    recovered,
    close: () => (closing ??= valuation.close().finally(() => workspace.close())),
  };
}
