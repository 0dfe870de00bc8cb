import type { Workspace } from '../workspace/workspace.js';
import type { DatasetService } from './dataset-service.js';
import { openDatasetServices } from './open-datasets.js';
import { SqliteModelStore } from '../models/sqlite-model-store.js';
import { ModelService } from '../models/model-service.js';
import { TrainingService } from '../training/training-service.js';
import { ValuationService } from '../valuation/valuation-service.js';

/** The composition root for one process: opens the workspace and wires the services onto it. */
export interface AppServices {
  workspace: Workspace;
  datasets: DatasetService;
  models: ModelService;
  training: TrainingService;
  valuation: ValuationService;
  /** Ingests abandoned by a crashed process that were cleaned up on open. */
  recovered: number;
  /** Releases model sessions and the database. */
  close(): Promise<void>;
}

export function openServices(dir?: string): AppServices {
  const { workspace, datasets, recovered } = openDatasetServices(dir);
  const modelStore = new SqliteModelStore(workspace.db, workspace.artifacts);
  const valuation = new ValuationService(datasets.store, modelStore, workspace.db);
  let closing: Promise<void> | null = null;
  return {
    workspace,
    datasets,
    models: new ModelService(modelStore),
    training: new TrainingService(datasets.store, modelStore),
    valuation,
    recovered,
    close: () =>
      (closing ??= valuation.close().finally(() => workspace.close())),
  };
}
