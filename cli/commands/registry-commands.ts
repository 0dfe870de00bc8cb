import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { AppraiseError } from '../../core/common/errors.js';
import { enrolDevice, readEnrolment } from '../../core/sync/device-enrolment.js';
import type { SyncService } from '../../core/sync/sync-service.js';
import { feedFileSchema, parseLatestYml } from '../../core/sync/app-release.js';
import type { AppServices } from '../../core/services/open-workspace.js';
import { generateEd25519Key, parseEd25519Key, type Ed25519Key } from '../../core/sync/signing-keys.js';
import { workspaceSyncService } from '../../core/sync/workspace-sync-service.js';
import { buildRegistry, listen } from '../../registry/build-registry.js';
import { PgRegistryStore } from '../../registry/pg-registry-store.js';
import { RegistryClient } from '../../registry/registry-client.js';
import { channelSchema, credentialIssuedSchema, regionSchema, webhookEventSchema, type Channel } from '../../registry/registry-schemas.js';
import { printJson } from '../output.js';
import { cancelOnCtrlC, globals, withServices } from './context.js';

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
    .command('rotate-key')
    .description(
      "rotate a repository's publisher (targets) key and/or its root keys per TUF: the next root is signed by the current and the new root keys, the current targets are re-signed by the new publisher key (admin)",
    )
    .requiredOption('--url <url>', 'registry URL')
    .requiredOption('--region <region>', 'region')
    .option('--channel <channel>', 'stable or beta', 'stable')
    .requiredOption('--root-key <file...>', 'current root key files (at least the current threshold of them sign)')
    .option('--new-root-key <file...>', 'new root key files (all of them; the first --threshold sign); default: keep the current root keys')
    .option('--threshold <n>', 'root signatures required from now on; default: the current threshold', (v) => Number.parseInt(v, 10))
    .option('--publisher-key <file...>', 'the new publisher key files; the first re-signs the current targets. Default: keep the current publisher keys')
    .action(
      async (
        opts: { url: string; region: string; channel: string; rootKey: string[]; newRootKey?: string[]; threshold?: number; publisherKey?: string[] },
        cmd: Command,
      ) => {
        const { region, channel } = repo(opts);
        if (!opts.newRootKey && !opts.publisherKey)
          throw new AppraiseError('INVALID_INPUT', 'say what to rotate: --publisher-key FILE and/or --new-root-key FILE…');
        if (opts.threshold !== undefined && !Number.isInteger(opts.threshold)) throw new AppraiseError('INVALID_INPUT', '--threshold must be a whole number');
        const result = await client(opts.url).rotateKeys(region, channel, {
          currentRoot: opts.rootKey.map(readKey),
          newRoot: opts.newRootKey?.map(readKey),
          threshold: opts.threshold,
          publishers: opts.publisherKey?.map(readKey),
        });
        say(
          globals(cmd).json,
          result,
          `${region}/${channel}: root version ${result.rootVersion}` +
            (result.targetsVersion === null ? '' : `; current targets re-signed by the new publisher key as version ${result.targetsVersion}`) +
            '. Devices take the new keys at their next sync; the old ones are no longer trusted.',
        );
      },
    );

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

  registry
    .command('publish-app')
    .description("publish an app release (electron-builder's latest*.yml and the files it names) as signed targets; devices update from it")
    .requiredOption('--feed <file>', 'the latest.yml, latest-mac.yml or latest-linux.yml electron-builder wrote; the files it names are read beside it')
    .requiredOption('--url <url>', 'registry URL')
    .requiredOption('--region <region>', 'region')
    .option('--channel <channel>', 'stable or beta', 'stable')
    .requiredOption('--key <file>', 'your publisher key file')
    .action(async (opts: { feed: string; url: string; region: string; channel: string; key: string }, cmd: Command) => {
      const { region, channel } = repo(opts);
      const feedFile = feedFileSchema.safeParse(basename(opts.feed));
      if (!feedFile.success) throw new AppraiseError('INVALID_INPUT', `--feed: ${feedFile.error.issues[0].message}`);
      const readRelease = (path: string) => {
        try {
          return readFileSync(path);
        } catch (e) {
          throw new AppraiseError('INVALID_INPUT', `cannot read release file ${path}: ${(e as Error).message}`);
        }
      };
      const feedBytes = readRelease(opts.feed);
      const feed = parseLatestYml(feedBytes, opts.feed);
      const files = [
        { name: feedFile.data, bytes: feedBytes },
        ...feed.files.map((f) => ({ name: f.url, bytes: readRelease(join(dirname(opts.feed), f.url)) })),
      ];
      const result = await client(opts.url).publishApp(region, channel, { feedFile: feedFile.data, files }, readKey(opts.key));
      say(
        globals(cmd).json,
        result,
        `published Appraise ${feed.version} (${files.length - 1} file(s)) to ${region}/${channel}: targets version ${result.targetsVersion}`,
      );
    });

  const webhooks = registry.command('webhooks').description('signed notices to downstream systems of new models, app releases and reports (admin)');

  webhooks
    .command('add')
    .description('register a webhook; prints its signing secret once')
    .requiredOption('--url <url>', 'registry URL')
    .requiredOption('--target <url>', 'where the registry POSTs the notices (http:// or https://)')
    .requiredOption('--events <event...>', `what to notify: ${webhookEventSchema.options.join(', ')}`)
    .option('--description <text>', 'what it is for, shown in the list', '')
    .action(async (opts: { url: string; target: string; events: string[]; description: string }, cmd: Command) => {
      const events = opts.events.map((e) => {
        const parsed = webhookEventSchema.safeParse(e);
        if (!parsed.success) throw new AppraiseError('INVALID_INPUT', `--events: "${e}" is not an event; choose from ${webhookEventSchema.options.join(', ')}`);
        return parsed.data;
      });
      const hook = await client(opts.url).addWebhook(opts.target, events, opts.description);
      say(
        globals(cmd).json,
        hook,
        `webhook ${hook.id} → ${hook.url} (${hook.events.join(', ')})\nsigning secret (shown once; give it to the receiver to check X-Appraise-Signature): ${hook.secret}`,
      );
    });

  webhooks
    .command('list')
    .description('the registered webhooks (never their secrets)')
    .requiredOption('--url <url>', 'registry URL')
    .action(async (opts: { url: string }, cmd: Command) => {
      const hooks = await client(opts.url).listWebhooks();
      const lines = hooks.map(
        (h) =>
          `${h.id}  ${h.disabledAt ? `disabled ${h.disabledAt}` : 'active'}  ${h.url}  ${h.events.join(',')}${h.description ? `  — ${h.description}` : ''}`,
      );
      say(globals(cmd).json, hooks, hooks.length === 0 ? 'no webhooks' : lines.join('\n'));
    });

  webhooks
    .command('deliveries')
    .description("a webhook's delivery log, newest first: status, attempts, last HTTP status and error")
    .requiredOption('--url <url>', 'registry URL')
    .argument('<webhook-id>', 'the id (webhooks list shows it)')
    .option('--limit <n>', 'at most this many', (v) => Number.parseInt(v, 10), 100)
    .action(async (id: string, opts: { url: string; limit: number }, cmd: Command) => {
      if (!(Number.isInteger(opts.limit) && opts.limit >= 1 && opts.limit <= 1000))
        throw new AppraiseError('INVALID_INPUT', '--limit must be a whole number from 1 to 1000');
      const log = await client(opts.url).webhookDeliveries(id, opts.limit);
      const lines = log.map(
        (d) =>
          `${d.createdAt}  ${d.event}  ${d.status}  ${d.attempts} attempt(s)${d.lastStatus === null ? '' : `  HTTP ${d.lastStatus}`}${d.lastError ? `  ${d.lastError}` : ''}`,
      );
      say(globals(cmd).json, log, log.length === 0 ? 'no deliveries yet' : lines.join('\n'));
    });

  webhooks
    .command('remove')
    .description('disable a webhook: no more notices, pending ones cancelled; it stays listed with its delivery log')
    .requiredOption('--url <url>', 'registry URL')
    .argument('<webhook-id>', 'the id (webhooks list shows it)')
    .action(async (id: string, opts: { url: string }, cmd: Command) => {
      const hook = await client(opts.url).disableWebhook(id);
      say(globals(cmd).json, hook, `webhook ${hook.id} disabled (${hook.url})`);
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

  // The same SyncService the app runs, one cycle at a time: pull (TUF-verified, as challengers), queue the period's
  // report, push the outbox. `pull` and `push` are the old names of that one cycle.
  sync
    .command('now')
    .aliases(['pull', 'push'])
    .description("run one sync cycle: fetch, verify and import new models as challengers, queue this period's report, send the outbox")
    .action(async (_opts: unknown, cmd: Command) => {
      await withServices(cmd, async (s, o) => {
        requireEnrolment(s.workspace.dir);
        const service = syncService(s);
        try {
          // Ctrl-C closes the service, which aborts the cycle's network calls; nothing half-downloaded is kept.
          const cycle = await cancelOnCtrlC((signal) => {
            signal.addEventListener('abort', () => void service.close(), { once: true });
            return service.now();
          });
          const lines = [
            ...cycle.pulledModels.map((m) => `imported ${m.name} (${m.id.slice(0, 12)}) as a challenger`),
            ...cycle.autoPromotion.map((d) => d.message),
            ...cycle.refused.map((r) => r.message),
            `reports: ${cycle.queued} queued, ${cycle.pushed} delivered, ${service.status().outboxDepth} waiting`,
          ];
          say(o.json, cycle, lines.join('\n'));
        } finally {
          await service.close();
        }
      });
    });

  sync
    .command('status')
    .description('enrolment, the last cycle, trusted metadata versions and expiry, outbox depth')
    .action(async (_opts: unknown, cmd: Command) => {
      await withServices(cmd, async (s, o) => {
        const service = syncService(s);
        try {
          const status = service.status();
          say(o.json, status, JSON.stringify(status, null, 2));
        } finally {
          await service.close();
        }
      });
    });
}

/** The app's SyncService on the CLI's services, without its background timer. */
function syncService(s: AppServices): SyncService {
  return workspaceSyncService(s);
}

function requireEnrolment(dir: string) {
  const e = readEnrolment(dir);
  if (!e) throw new AppraiseError('INVALID_INPUT', 'this workspace is not enrolled with a registry; run appraise sync enrol first');
  return e;
}
