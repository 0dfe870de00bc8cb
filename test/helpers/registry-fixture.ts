import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { join } from 'node:path';
import { parseOnnx } from '../../core/onnx/inspect-onnx.js';
import { onnx } from '../../core/onnx/onnx-proto.js';
import type { ModelService } from '../../core/models/model-service.js';
import type { ModelSummary } from '../../core/models/model-schemas.js';
import { generateEd25519Key, type Ed25519Key } from '../../core/sync/signing-keys.js';
import { buildRegistry, listen, type Registry, type RegistryOptions } from '../../registry/build-registry.js';
import { PgRegistryStore } from '../../registry/pg-registry-store.js';
import { RegistryClient } from '../../registry/registry-client.js';
import type { Channel } from '../../registry/registry-schemas.js';
import { repoRoot, tempDir } from './temp-workspace.js';

const demo = join(repoRoot, 'models', 'king-county');

/**
 * Imports a distinct copy of the bundled demo model: the same trees with `variant` in the ONNX doc string, so the
 * bytes (and the model id) differ while the model stays real and valid.
 */
export function importVariant(models: ModelService, scratch: string, variant: number): ModelSummary {
  const dir = join(scratch, `variant-${variant}`);
  mkdirSync(dir, { recursive: true });
  const proto = parseOnnx(readFileSync(join(demo, 'model.onnx')));
  proto.docString = `test variant ${variant}`;
  writeFileSync(join(dir, 'model.onnx'), onnx.ModelProto.encode(proto).finish());
  const manifest = JSON.parse(readFileSync(join(demo, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  delete manifest.modelId;
  manifest.name = `variant-${variant}`;
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  writeFileSync(join(dir, 'ensemble.json'), readFileSync(join(demo, 'ensemble.json')));
  return models.importFrom(join(dir, 'model.onnx'), join(dir, 'manifest.json'));
}

export interface TestRegistry {
  registry: Registry;
  url: string;
  dataDir: string;
  admin: RegistryClient;
  publisher: RegistryClient;
  rootKeys: Ed25519Key[];
  publisherKey: Ed25519Key;
  /** Creates a repository with a 2-of-3 root and the publisher's key for targets. */
  createRepository(region: string, channel?: Channel): Promise<void>;
  close(): Promise<void>;
}

/** A new, empty database on the server at `url`, so each test registry starts from nothing. */
async function freshDatabase(url: string): Promise<string> {
  const name = `appraise_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * A real registry on 127.0.0.1 with an admin, a publisher and offline root keys: on its own data folder
 * (embedded SQLite), or on a fresh database of the PostgreSQL server at `postgresUrl`.
 */
export async function startRegistry(options: Omit<RegistryOptions, 'dataDir' | 'store'> = {}, postgresUrl?: string): Promise<TestRegistry> {
  const { dir, cleanup } = tempDir('appraise-registry-');
  const dataDir = join(dir, 'data');
  const registry = await buildRegistry(
    postgresUrl ? { ...options, store: await PgRegistryStore.open(await freshDatabase(postgresUrl)) } : { ...options, dataDir },
  );
  const url = await listen(registry);
  const adminToken = (await registry.bootstrapAdmin('test admin')).token;
  const admin = new RegistryClient(url, adminToken);
  const issued = await admin.call(
    'POST',
    '/admin/credentials',
    { role: 'publisher', name: 'analyst' },
    (await import('../../registry/registry-schemas.js')).credentialIssuedSchema,
  );
  const rootKeys = [generateEd25519Key(), generateEd25519Key(), generateEd25519Key()];
  const publisherKey = generateEd25519Key();
  return {
    registry,
    url,
    dataDir,
    admin,
    publisher: new RegistryClient(url, issued.token),
    rootKeys,
    publisherKey,
    async createRepository(region, channel = 'stable') {
      await admin.createRepository(region, channel, { root: rootKeys, threshold: 2, publishers: [publisherKey] });
    },
    async close() {
      await registry.close();
      cleanup();
    },
  };
}
