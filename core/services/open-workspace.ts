import { Workspace, resolveWorkspaceDir } from '../workspace/workspace.js';
import { recoverInterruptedIngests } from '../ingest/ingest-csv.js';
import { DatasetService } from './dataset-service.js';

/** The composition root for one process: opens the workspace and wires the services onto it. */
export interface AppServices {
  workspace: Workspace;
  datasets: DatasetService;
  /** Ingests abandoned by a crashed process that were cleaned up on open. */
  recovered: number;
  close(): void;
}

export function openServices(dir?: string): AppServices {
  const workspace = Workspace.open(resolveWorkspaceDir(dir));
  const recovered = recoverInterruptedIngests(workspace.db);
  return {
    workspace,
    datasets: new DatasetService(workspace),
    recovered,
    close: () => workspace.close(),
  };
}
