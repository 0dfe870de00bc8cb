import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { parseOnnx } from '../core/onnx/inspect-onnx.js';
import { onnx } from '../core/onnx/onnx-proto.js';
import { openServices } from '../core/services/open-workspace.js';
import { enrolDevice } from '../core/sync/device-enrolment.js';
import { pullModels } from '../core/sync/model-puller.js';
import { seal } from '../core/sync/sealed-box.js';
import { generateEd25519Key, signBytes } from '../core/sync/signing-keys.js';
import { buildRegistry, listen } from '../registry/build-registry.js';
import { PgRegistryStore } from '../registry/pg-registry-store.js';
import { RegistryClient } from '../registry/registry-client.js';
import { credentialIssuedSchema } from '../registry/registry-schemas.js';

// From dist/bench/ when built, from bench/ when run with tsx.
const demo = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../models/king-county/' : '../models/king-county/', import.meta.url));

/** The demo model with `padBytes` of doc string in its ONNX file: a valid model of the size we want to move. */
function importPadded(models: ReturnType<typeof openServices>['models'], dir: string, padBytes: number) {
  mkdirSync(dir, { recursive: true });
  const proto = parseOnnx(readFileSync(join(demo, 'model.onnx')));
  proto.docString = 'x'.repeat(padBytes);
  const bytes = onnx.ModelProto.encode(proto).finish();
  writeFileSync(join(dir, 'model.onnx'), bytes);
  const manifest = JSON.parse(readFileSync(join(demo, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  delete manifest.modelId;
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  writeFileSync(join(dir, 'ensemble.json'), readFileSync(join(demo, 'ensemble.json')));
  return { summary: models.importFrom(join(dir, 'model.onnx'), join(dir, 'manifest.json')), onnxBytes: bytes.length };
}

async function runOne(backend: string, postgres: string | undefined, seconds: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'appraise-bench-registry-'));
  const registry = await buildRegistry(
    postgres ? { store: await PgRegistryStore.open(postgres), rateLimitPerMinute: 1e9 } : { dataDir: join(dir, 'data'), rateLimitPerMinute: 1e9 },
  );
  const publisherWs = openServices(join(dir, 'pub'));
  const deviceWs = openServices(join(dir, 'device'));
  try {
    const url = await listen(registry);
    const admin = new RegistryClient(url, (await registry.bootstrapAdmin('bench')).token);
    const publisher = new RegistryClient(
      url,
      (await admin.call('POST', '/admin/credentials', { role: 'publisher', name: 'bench' }, credentialIssuedSchema)).token,
    );
    const rootKeys = [generateEd25519Key()];
    const publisherKey = generateEd25519Key();
    const region = `bench-${Date.now() % 100000}`;
    await admin.createRepository(region, 'stable', { root: rootKeys, threshold: 1, publishers: [publisherKey] });
    const { summary, onnxBytes } = importPadded(publisherWs.models, join(dir, 'model'), 5 * 1_048_576 - 300_000);
    await publisher.publishModel(region, 'stable', publisherWs.models.load(summary.id), publisherKey);
    const { code } = await admin.createEnrolmentCode(region, 'stable');
    const device = await enrolDevice(deviceWs.workspace.dir, url, code, 'bench device');

    const t0 = performance.now();
    const pulled = await pullModels(deviceWs.workspace.dir, device, deviceWs.models);
    const syncMs = performance.now() - t0;
    if (pulled.imported.length !== 1) throw new Error(`bench: the model did not arrive (${JSON.stringify(pulled.refused)})`);

    const auth = { authorization: `Bearer ${device.token}` };
    const listing = await autocannon({ url: `${url}/repos/${region}/stable/metadata/1.targets.json`, connections: 10, duration: seconds, headers: auth });
    const sealedJson = JSON.stringify(seal(Buffer.from(JSON.stringify({ kind: 'monitoring-report', payload: { drift: 0.1 } })), device.reportPublicKey));
    const signature = signBytes(device.deviceKey, Buffer.from(sealedJson));
    let n = 0;
    const upload = await autocannon({
      url,
      connections: 10,
      duration: seconds,
      requests: [
        {
          method: 'POST',
          path: '/reports',
          headers: { ...auth, 'content-type': 'application/json' },
          // A fresh idempotency key each time: every request is a real insert, not the duplicate path.
          setupRequest: (req) => ({ ...req, body: JSON.stringify({ idempotencyKey: `bench_${process.pid}_${n++}_padding`, sealedJson, signature }) }),
        },
      ],
    });
    const line = (name: string, r: Awaited<ReturnType<typeof autocannon>>) =>
      `  ${name.padEnd(28)} ${r.requests.average.toFixed(0).padStart(6)} req/s   p99 ${String(r.latency.p99).padStart(4)} ms   non-2xx ${r.non2xx}, errors ${r.errors}`;
    console.log(`${backend}:`);
    console.log(line('targets listing (GET)', listing));
    console.log(line('report upload (POST)', upload));
    console.log(`  sync of a ${(onnxBytes / 1_048_576).toFixed(1)} MiB model (refresh, download, verify, decrypt, import): ${syncMs.toFixed(0)} ms`);
  } finally {
    await registry.close();
    await publisherWs.close();
    await deviceWs.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const description =
  'registry on loopback: autocannon on the targets listing and report upload (10 connections), and the time to sync a 5 MiB model to a device; --postgres URL adds the PostgreSQL backend, --seconds N (default 5)';

export async function run(args: string[]): Promise<void> {
  const at = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const seconds = Number(at('--seconds') ?? 5);
  await runOne('embedded SQLite', undefined, seconds);
  const postgres = at('--postgres') ?? process.env.APPRAISE_REGISTRY_DATABASE_URL;
  if (postgres) await runOne('PostgreSQL', postgres, seconds);
  else console.log('PostgreSQL: skipped (pass --postgres URL)');
}
