import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AppraiseError } from '../../core/common/errors.js';
import { enrolDevice, readEnrolment } from '../../core/sync/device-enrolment.js';
import { pullModels, trustState } from '../../core/sync/model-puller.js';
import { pushReports } from '../../core/sync/report-pusher.js';
import { generateEd25519Key, parseEd25519Key, type Ed25519Key } from '../../core/sync/signing-keys.js';
import { SqliteOutbox } from '../../core/sync/sqlite-outbox.js';
import { buildRegistry, listen } from '../../registry/build-registry.js';
import { PgRegistryStore } from '../../registry/pg-registry-store.js';
import { RegistryClient } from '../../registry/registry-client.js';
import { channelSchema, credentialIssuedSchema, regionSchema, type Channel } from '../../registry/registry-schemas.js';
import { printJson } from '../output.js';
import { globals, withServices } from './context.js';

function readKey(file: string): Ed25519Key {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new AppraiseError('INVALID_INPUT', `cannot read key file ${file}: ${(e as Error).message}`);
  }
  return parseEd25519Key(text, file);
}

function repo(opts: { region: string; channel: string }): { region: string; channel: Channel } {
  const region = regionSchema.safeParse(opts.region);
  if (!region.success) throw new AppraiseError('INVALID_INPUT', `--region: ${region.error.issues[0].message}`);
  const channel = channelSchema.safeParse(opts.channel);
  if (!channel.success) throw new AppraiseError('INVALID_INPUT', '--channel must be stable or beta');
  return { region: region.data, channel: channel.data };
}

/** The token comes from the environment, so it stays out of shell history and process lists. */
function client(url: string): RegistryClient {
  const token = process.env.APPRAISE_REGISTRY_TOKEN;
  if (!token) throw new AppraiseError('INVALID_INPUT', 'set APPRAISE_REGISTRY_TOKEN to your admin or publisher token');
  return new RegistryClient(url, token);
}

/** The registry on its embedded store (`--data`) or on PostgreSQL (`--postgres`, or the environment). */
async function openRegistry(opts: { data?: string; postgres?: string }, logger: boolean) {
  const postgres = opts.postgres ?? process.env.APPRAISE_REGISTRY_DATABASE_URL;
  if (opts.data && postgres) throw new AppraiseError('INVALID_INPUT', 'choose one store: --data DIR or --postgres URL');
  if (postgres) return buildRegistry({ store: await PgRegistryStore.open(postgres), logger });
  if (!opts.data) throw new AppraiseError('INVALID_INPUT', 'the registry needs --data DIR (embedded) or --postgres URL');
  return buildRegistry({ dataDir: opts.data, logger });
}

const say = (json: boolean, value: unknown, text: string) => (json ? printJson(value) : process.stdout.write(`${text}\n`));

/** `appraise registry …` (the organisation's side) and `appraise sync …` (a device's side). */
export function registerRegistryCommands(program: Command): void {
  const registry = program.command('registry').description('the central model registry: serve it, set up repositories, publish models');

  registry
    .command('serve')
    .description('run the registry server (SQLite + blob folder in --data)')
    .option('--data <dir>', 'the registry data folder (embedded SQLite + blobs)')
    .option('--postgres <url>', 'a PostgreSQL connection URL instead (several instances may share it); or $APPRAISE_REGISTRY_DATABASE_URL')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('-p, --port <n>', 'port (0: any free one)', (v) => Number.parseInt(v, 10), 8443)
    .action(async (opts: { data?: string; postgres?: string; host: string; port: number }) => {
      const r = await openRegistry(opts, true);
      const url = await listen(r, { host: opts.host, port: opts.port });
      process.stderr.write(`appraise registry: serving on ${url} (OpenAPI at ${url}/docs); Ctrl-C stops\n`);
      await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
      await r.close();
    });

  registry
    .command('init')
    .description('create an admin credential on a registry data folder (prints its token once)')
    .option('--data <dir>', 'the registry data folder (embedded SQLite + blobs)')
    .option('--postgres <url>', 'a PostgreSQL connection URL instead; or $APPRAISE_REGISTRY_DATABASE_URL')
    .requiredOption('--name <name>', "the admin's name, for the audit log")
    .action(async (opts: { data?: string; postgres?: string; name: string }, cmd: Command) => {
      const r = await openRegistry(opts, false);
      try {
        const admin = await r.bootstrapAdmin(opts.name);
        say(globals(cmd).json, admin, `admin ${admin.id}\ntoken (shown once; store it safely): ${admin.token}`);
      } finally {
        await r.close();
      }
    });

  registry
    .command('keygen')
    .description('write a new Ed25519 signing key (root or publisher) to a file only you can read')
    .requiredOption('--out <file>', 'the key file to write')
    .action((opts: { out: string }, cmd: Command) => {
      const key = generateEd25519Key();
      writeFileSync(opts.out, JSON.stringify(key, null, 2), { mode: 0o600, flag: 'wx' });
      say(globals(cmd).json, { keyId: key.keyId, publicKey: key.publicKey }, `key ${key.keyId} written to ${opts.out}`);
    });

  registry
    .command('create-repo')
    .description('create a region × channel repository and sign its first root with the offline root keys (admin)')
    .requiredOption('--url <url>', 'registry URL')
    .requiredOption('--region <region>', 'region')
    .option('--channel <channel>', 'stable or beta', 'stable')
    .requiredOption('--root-key <file...>', 'root key files (all of them; the first --threshold sign)')
    .requiredOption('--threshold <n>', 'root signatures required', (v) => Number.parseInt(v, 10))
    .requiredOption('--publisher-key <file...>', 'publisher key files (their public halves go into root)')
    .action(async (opts: { url: string; region: string; channel: string; rootKey: string[]; threshold: number; publisherKey: string[] }, cmd: Command) => {
      const { region, channel } = repo(opts);
      const root = opts.rootKey.map(readKey);
      if (!(opts.threshold >= 1 && opts.threshold <= root.length))
        throw new AppraiseError('INVALID_INPUT', `--threshold must be between 1 and the number of root keys (${root.length})`);
      const result = await client(opts.url).createRepository(region, channel, { root, threshold: opts.threshold, publishers: opts.publisherKey.map(readKey) });
      say(globals(cmd).json, result, `repository ${region}/${channel} created; root version 1 signed by ${opts.threshold} of ${root.length} root keys`);
    });

  registry
    .command('credential')
    .description('issue a publisher or admin credential (admin; prints its token once)')
    .requiredOption('--url <url>', 'registry URL')
    .requiredOption('--role <role>', 'publisher or admin')
    .requiredOption('--name <name>', 'who holds it, for the audit log')
    .action(async (opts: { url: string; role: string; name: string }, cmd: Command) => {
      if (opts.role !== 'publisher' && opts.role !== 'admin') throw new AppraiseError('INVALID_INPUT', '--role must be publisher or admin');
      const issued = await client(opts.url).call('POST', '/admin/credentials', { role: opts.role, name: opts.name }, credentialIssuedSchema);
      say(globals(cmd).json, issued, `${issued.role} ${issued.id}\ntoken (shown once; store it safely): ${issued.token}`);
    });

  registry
    .command('enrolment-code')
    .description('make a one-time enrolment code for a device of a region (admin)')
    .requiredOption('--url <url>', 'registry URL')
    .requiredOption('--region <region>', 'region')
    .option('--channel <channel>', 'stable or beta', 'stable')
    .action(async (opts: { url: string; region: string; channel: string }, cmd: Command) => {
      const { region, channel } = repo(opts);
      const code = await client(opts.url).createEnrolmentCode(region, channel);
      say(globals(cmd).json, code, `enrolment code for ${region}/${channel} (valid until ${code.expiresAt}, once): ${code.code}`);
    });

  registry
    .command('revoke-device')
    .description("revoke a device's credential: every later request with its token is refused (admin)")
    .requiredOption('--url <url>', 'registry URL')
    .argument('<device-id>', 'the device id (appraise sync status shows it on the device)')
    .action(async (id: string, opts: { url: string }, cmd: Command) => {
      const d = await client(opts.url).revokeDevice(id);
      say(globals(cmd).json, d, `device ${d.id} revoked`);
    });

  registry
    .command('publish')
    .description("publish a workspace model to a region's channel: bundled, encrypted for the region, signed with your publisher key")
    .argument('<model>', 'model id, id prefix or "champion"')
    .requiredOption('--url <url>', 'registry URL')
    .requiredOption('--region <region>', 'region')
    .option('--channel <channel>', 'stable or beta', 'stable')
    .requiredOption('--key <file>', 'your publisher key file')
    .action(async (model: string, opts: { url: string; region: string; channel: string; key: string }, cmd: Command) => {
      const { region, channel } = repo(opts);
      const key = readKey(opts.key);
      await withServices(cmd, async (s, o) => {
        const stored = s.models.load(model);
        const result = await client(opts.url).publishModel(region, channel, stored, key);
        say(
          o.json,
          result,
          `published ${stored.summary.name} (${stored.summary.id.slice(0, 12)}) to ${region}/${channel}: targets version ${result.targetsVersion}`,
        );
      });
    });

  const sync = program.command('sync').description("this workspace's link to the registry: enrol, pull models, push reports");

  sync
    .command('enrol')
    .description('enrol this workspace as a device with a one-time code from an admin')
    .requiredOption('--url <url>', 'registry URL')
    .requiredOption('--code <code>', 'the enrolment code')
    .requiredOption('--name <name>', 'a name for this device')
    .action(async (opts: { url: string; code: string; name: string }, cmd: Command) => {
      await withServices(cmd, async (s, o) => {
        const e = await enrolDevice(s.workspace.dir, opts.url, opts.code, opts.name);
        say(o.json, { deviceId: e.deviceId, region: e.region, channel: e.channel }, `enrolled as ${e.deviceId} for ${e.region}/${e.channel}`);
      });
    });

  sync
    .command('pull')
    .description('fetch, verify and import new models as challengers')
    .action(async (_opts: unknown, cmd: Command) => {
      await withServices(cmd, async (s, o) => {
        const e = requireEnrolment(s.workspace.dir);
        const result = await pullModels(s.workspace.dir, e, s.models);
        const lines = [...result.imported.map((m) => `imported ${m.name} (${m.id.slice(0, 12)}) as a challenger`), ...result.refused.map((r) => r.message)];
        say(o.json, result, lines.length > 0 ? lines.join('\n') : 'up to date');
      });
    });

  sync
    .command('push')
    .description("send the outbox's reports to the registry")
    .action(async (_opts: unknown, cmd: Command) => {
      await withServices(cmd, async (s, o) => {
        const result = await pushReports(requireEnrolment(s.workspace.dir), new SqliteOutbox(s.workspace.db));
        say(o.json, result, `delivered ${result.delivered}, ${result.remaining} waiting${result.lastError ? ` (last error: ${result.lastError})` : ''}`);
      });
    });

  sync
    .command('status')
    .description('enrolment, trusted metadata versions and expiry, outbox length')
    .action(async (_opts: unknown, cmd: Command) => {
      await withServices(cmd, (s, o) => {
        const e = readEnrolment(s.workspace.dir);
        const status = e
          ? {
              enrolled: true,
              deviceId: e.deviceId,
              registryUrl: e.registryUrl,
              region: e.region,
              channel: e.channel,
              trust: trustState(s.workspace.dir, e),
              outbox: new SqliteOutbox(s.workspace.db).size(),
            }
          : { enrolled: false };
        say(o.json, status, JSON.stringify(status, null, 2));
      });
    });
}

function requireEnrolment(dir: string) {
  const e = readEnrolment(dir);
  if (!e) throw new AppraiseError('INVALID_INPUT', 'this workspace is not enrolled with a registry; run appraise sync enrol first');
  return e;
}
