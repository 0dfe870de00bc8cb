import { SyncService, type SyncServiceOptions } from './sync-service.js';
import { SqliteOutbox } from './sqlite-outbox.js';
import { recentLocalSales } from './auto-promote.js';

type Db = ConstructorParameters<typeof SqliteOutbox>[0];

/**
 * The workspace's SyncService, wired the one way the app host, the CLI and the tests all need: its outbox, models,
 * monitoring and audit trail, and pulled models compared on the sales linked to this device's own valuations
 * (core/sync/auto-promote.ts). `extra` adds what only one caller has (the app's timer and logger).
 */
export function workspaceSyncService(
  services: { workspace: { dir: string; db: Db } } & Pick<SyncServiceOptions, 'models' | 'monitoring' | 'audit'>,
  extra: Partial<SyncServiceOptions> = {},
): SyncService {
  return new SyncService({
    workspaceDir: services.workspace.dir,
    outbox: new SqliteOutbox(services.workspace.db),
    models: services.models,
    monitoring: services.monitoring,
    audit: services.audit,
    recentSales: () => recentLocalSales(services.workspace.db),
    ...extra,
  });
}
