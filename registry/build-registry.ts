import { randomBytes, randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyError } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppraiseError, type ErrorCode } from '../core/common/errors.js';
import { APP_TARGET_PREFIX, checkReleaseFiles, parseLatestYml } from '../core/sync/app-release.js';
import { generateX25519KeyPair, open as openSealed, parseSealedBox } from '../core/sync/sealed-box.js';
import { generateEd25519Key, parseEd25519Key, verifyBytes } from '../core/sync/signing-keys.js';
import { authorize, bearer, checkRegion, hashSecret, newToken } from './auth.js';
import {
  channelSchema,
  createCredentialBodySchema,
  createEnrolmentCodeBodySchema,
  createRepositoryBodySchema,
  createWebhookBodySchema,
  credentialIssuedSchema,
  deviceSummarySchema,
  enrolBodySchema,
  enrolmentCodeSchema,
  enrolmentSchema,
  publishAppBodySchema,
  publishBodySchema,
  publishedSchema,
  regionSchema,
  reportAcceptedSchema,
  reportBodySchema,
  reportDetailSchema,
  reportListSchema,
  repositoryHeadSchema,
  repositoryKeysSchema,
  rotateBodySchema,
  rotatedSchema,
  tufMetadataSchema,
  webhookCreatedSchema,
  webhookDeliverySchema,
  webhookSummarySchema,
  type TufMetadataJson,
} from './registry-schemas.js';
import type { RegistryStore } from './registry-store.js';
import { SqliteRegistryStore } from './sqlite-registry-store.js';
import { TufRepositories, type TufRepositoryOptions } from './tuf-repository.js';
import { newWebhookSecret, sealSecret, WebhookDispatcher, type WebhookOptions } from './webhooks.js';

export interface RegistryOptions {
  /** The registry's storage; default the embedded SQLite store in `dataDir`. The registry closes it on close. */
  store?: RegistryStore;
  dataDir?: string;
  tuf?: TufRepositoryOptions;
  /** Requests per minute per credential (or per address without one). Default 600. */
  rateLimitPerMinute?: number;
  /** Largest publish body (an encrypted bundle, base64, plus metadata). Default 64 MiB. */
  maxBundleBytes?: number;
  /** Largest app release body (installer and feed, base64). Default 512 MiB. */
  maxAppReleaseBytes?: number;
  logger?: boolean;
  /** Webhook delivery (retries, backoff, timeouts); on by default. */
  webhooks?: WebhookOptions;
}

export interface Registry {
  app: FastifyInstance;
  store: RegistryStore;
  /** Creates an admin credential without a request: the first admin of a fresh registry (`appraise registry init`). */
  bootstrapAdmin(name: string): Promise<{ id: string; token: string }>;
  /** This instance's webhook dispatcher (tests drive `runOnce`; it also runs on its own timer). */
  webhooks: WebhookDispatcher;
  close(): Promise<void>;
}

const STATUS: Record<ErrorCode, number> = {
  INVALID_INPUT: 400,
  INVALID_CONFIG: 400,
  BAD_FILE: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  TOO_LARGE: 413,
  LOCKED: 423,
  RATE_LIMITED: 429,
  CANCELLED: 499,
  OFFLINE: 503,
  INTERNAL: 500,
};

const repoParams = z.object({ region: regionSchema, channel: channelSchema });
const errorJson = (code: ErrorCode, message: string) => ({ error: { code, message } });

/** Builds the registry's HTTP app without listening, so tests can `inject()`; `listen` starts it. */
export async function buildRegistry(options: RegistryOptions): Promise<Registry> {
  if (!options.store && !options.dataDir) throw new AppraiseError('INVALID_INPUT', 'the registry needs a data folder (--data DIR) or a store');
  const store = options.store ?? new SqliteRegistryStore(options.dataDir!);
  const onlineKey = parseEd25519Key(await store.secret('online-signing-key', () => JSON.stringify(generateEd25519Key())), 'the registry online key');
  const reportKey = JSON.parse(await store.secret('report-key', () => JSON.stringify(generateX25519KeyPair()))) as { publicKey: string; privateKey: string };
  const repos = new TufRepositories(store, onlineKey, options.tuf);
  const webhookKey = Buffer.from(await store.secret('webhook-key', () => randomBytes(32).toString('base64')), 'base64');
  const webhooks = new WebhookDispatcher(store, webhookKey, options.webhooks);

  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 1_048_576, routerOptions: { maxParamLength: 300 } }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (err instanceof AppraiseError) return reply.status(STATUS[err.code]).send(errorJson(err.code, err.message));
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map((v) => `${v.instancePath || '(body)'}: ${v.message ?? 'invalid'}`).join('; ');
      return reply.status(400).send(errorJson('INVALID_INPUT', `the request does not match the API: ${issues}`));
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.status(413).send(errorJson('TOO_LARGE', 'the request body is over the limit'));
    if (err.statusCode === 429)
      return reply.status(429).send(errorJson('RATE_LIMITED', 'too many requests for this credential; slow down and try again after the Retry-After delay'));
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500)
      return reply.status(err.statusCode).send(errorJson('INVALID_INPUT', err.message));
    app.log.error(err);
    return reply.status(500).send(errorJson('INTERNAL', 'the registry failed on this request (see its log)'));
  });

  await app.register(rateLimit, {
    max: options.rateLimitPerMinute ?? 600,
    timeWindow: 60_000,
    // Per credential: one noisy device cannot starve the others behind the same NAT.
    keyGenerator: (req) => {
      const token = bearer(req);
      return token ? `t:${hashSecret(token)}` : `ip:${req.ip}`;
    },
  });
  await app.register(swagger, { openapi: { info: { title: 'Appraise registry', version: '1' } }, transform: jsonSchemaTransform });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/health', { config: { rateLimit: false }, schema: { response: { 200: z.object({ ok: z.literal(true) }) } } }, () => ({ ok: true as const }));
  app.get('/ready', { config: { rateLimit: false }, schema: { response: { 200: z.object({ ready: z.literal(true) }) } } }, async () => {
    try {
      await store.ping();
    } catch (e) {
      throw new AppraiseError('OFFLINE', `the registry's database does not answer: ${(e as Error).message}`);
    }
    return { ready: true as const };
  });

  // ── admin ──────────────────────────────────────────────────────────────────────────────────────────────────
  app.post('/admin/credentials', { schema: { body: createCredentialBodySchema, response: { 201: credentialIssuedSchema } } }, async (req, reply) => {
    const admin = await authorize(store, req, ['admin']);
    const token = newToken('apt');
    const id = `${req.body.role}_${randomUUID()}`;
    await store.addCredential(
      { id, role: req.body.role, name: req.body.name, region: null, channel: null, publicKey: null, tokenHash: hashSecret(token) },
      admin.id,
    );
    return reply.status(201).send({ id, role: req.body.role, token });
  });

  app.post('/admin/repositories', { schema: { body: createRepositoryBodySchema, response: { 200: repositoryKeysSchema } } }, async (req) => {
    const admin = await authorize(store, req, ['admin']);
    const key = await store.regionKey(req.body.region, generateX25519KeyPair);
    await store.addRepository(req.body.region, req.body.channel, admin.id);
    return {
      region: req.body.region,
      channel: req.body.channel,
      regionPublicKey: key.publicKey,
      onlineKey: { keyId: onlineKey.keyId, publicKey: onlineKey.publicKey },
    };
  });

  app.put(
    '/admin/repositories/:region/:channel/root',
    { schema: { params: repoParams, body: tufMetadataSchema, response: { 200: z.object({ version: z.number() }) } } },
    async (req) => {
      const admin = await authorize(store, req, ['admin']);
      await requireRepository(req.params.region, req.params.channel);
      return repos.acceptRoot(req.params.region, req.params.channel, req.body, admin.id);
    },
  );

  app.get('/admin/repositories/:region/:channel', { schema: { params: repoParams, response: { 200: repositoryHeadSchema } } }, async (req) => {
    await authorize(store, req, ['admin']);
    await requireRepository(req.params.region, req.params.channel);
    return repos.head(req.params.region, req.params.channel);
  });

  // Key rotation: the next root and the current targets re-signed by the new targets key, stored together.
  app.post(
    '/admin/repositories/:region/:channel/rotate',
    { schema: { params: repoParams, body: rotateBodySchema, response: { 200: rotatedSchema } } },
    async (req) => {
      const admin = await authorize(store, req, ['admin']);
      await requireRepository(req.params.region, req.params.channel);
      return repos.rotate(req.params.region, req.params.channel, req.body, admin.id);
    },
  );

  app.post('/admin/enrolment-codes', { schema: { body: createEnrolmentCodeBodySchema, response: { 201: enrolmentCodeSchema } } }, async (req, reply) => {
    const admin = await authorize(store, req, ['admin']);
    await requireRepository(req.body.region, req.body.channel);
    const code = newToken('enr');
    const expiresAt = new Date(Date.now() + req.body.ttlSeconds * 1000).toISOString();
    await store.addEnrolmentCode(hashSecret(code), { region: req.body.region, channel: req.body.channel, expiresAt }, admin.id);
    return reply.status(201).send({ code, region: req.body.region, channel: req.body.channel, expiresAt });
  });

  app.get('/admin/devices', { schema: { response: { 200: z.object({ devices: z.array(deviceSummarySchema) }) } } }, async (req) => {
    await authorize(store, req, ['admin']);
    return { devices: (await store.listDevices()).map((d) => ({ id: d.id, name: d.name, region: d.region, channel: d.channel, revoked: d.revoked })) };
  });

  app.post('/admin/devices/:id/revoke', { schema: { params: z.object({ id: z.string().max(100) }), response: { 200: deviceSummarySchema } } }, async (req) => {
    const admin = await authorize(store, req, ['admin']);
    const d = await store.revokeCredential(req.params.id, admin.id);
    if (!d || d.role !== 'device') throw new AppraiseError('NOT_FOUND', `no device ${req.params.id}`);
    return { id: d.id, name: d.name, region: d.region, channel: d.channel, revoked: d.revoked };
  });

  app.get('/admin/reports', { schema: { response: { 200: reportListSchema } } }, async (req) => {
    await authorize(store, req, ['admin']);
    return { reports: (await store.listReports()).map(({ sealedJson: _s, ...r }) => r) };
  });

  app.get('/admin/reports/:id', { schema: { params: z.object({ id: z.string().max(100) }), response: { 200: reportDetailSchema } } }, async (req) => {
    await authorize(store, req, ['admin']);
    const r = await store.report(req.params.id);
    if (!r) throw new AppraiseError('NOT_FOUND', `no report ${req.params.id}`);
    const report = JSON.parse(openSealed(parseSealedBox(Buffer.from(r.sealedJson)), reportKey).toString('utf8')) as unknown;
    const { sealedJson: _s, ...summary } = r;
    return { ...summary, report };
  });

  // ── webhooks ───────────────────────────────────────────────────────────────────────────────────────────────
  app.post('/admin/webhooks', { schema: { body: createWebhookBodySchema, response: { 201: webhookCreatedSchema } } }, async (req, reply) => {
    const admin = await authorize(store, req, ['admin']);
    const secret = newWebhookSecret();
    const events = [...new Set(req.body.events)];
    const hook = await store.addWebhook(
      { id: `webhook_${randomUUID()}`, url: req.body.url, events, description: req.body.description, secretSealed: sealSecret(webhookKey, secret) },
      admin.id,
    );
    // The one time the secret leaves the registry: the receiver needs it to check signatures.
    return reply.status(201).send({ ...hook, secret });
  });

  app.get('/admin/webhooks', { schema: { response: { 200: z.object({ webhooks: z.array(webhookSummarySchema) }) } } }, async (req) => {
    await authorize(store, req, ['admin']);
    return { webhooks: await store.listWebhooks() };
  });

  app.delete('/admin/webhooks/:id', { schema: { params: z.object({ id: z.string().max(100) }), response: { 200: webhookSummarySchema } } }, async (req) => {
    const admin = await authorize(store, req, ['admin']);
    const hook = await store.disableWebhook(req.params.id, admin.id);
    if (!hook) throw new AppraiseError('NOT_FOUND', `no webhook ${req.params.id}`);
    return hook;
  });

  app.get(
    '/admin/webhooks/:id/deliveries',
    {
      schema: {
        params: z.object({ id: z.string().max(100) }),
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
        response: { 200: z.object({ deliveries: z.array(webhookDeliverySchema) }) },
      },
    },
    async (req) => {
      await authorize(store, req, ['admin']);
      if (!(await store.listWebhooks()).some((w) => w.id === req.params.id)) throw new AppraiseError('NOT_FOUND', `no webhook ${req.params.id}`);
      const deliveries = await store.webhookDeliveries(req.params.id, req.query.limit);
      return { deliveries: deliveries.map(({ payloadJson: _p, ...d }) => d) };
    },
  );

  // ── enrolment ──────────────────────────────────────────────────────────────────────────────────────────────
  app.post('/enrol', { schema: { body: enrolBodySchema, response: { 201: enrolmentSchema } } }, async (req, reply) => {
    const token = newToken('apt');
    const deviceId = `device_${randomUUID()}`;
    const code = await store.redeemEnrolmentCode(hashSecret(req.body.code), new Date().toISOString(), {
      id: deviceId,
      name: req.body.name,
      publicKey: req.body.publicKey,
      tokenHash: hashSecret(token),
    });
    if (!code) throw new AppraiseError('UNAUTHORIZED', 'the enrolment code is not valid: unknown, already used or expired; ask an admin for a new one');
    const root = await store.latestMetadata(code.region, code.channel, 'root');
    if (!root) throw new AppraiseError('CONFLICT', `repository ${code.region}/${code.channel} has no root metadata yet`);
    const regionKey = await store.regionKey(code.region, generateX25519KeyPair);
    return reply.status(201).send({
      deviceId,
      token,
      region: code.region,
      channel: code.channel,
      regionKey,
      reportPublicKey: reportKey.publicKey,
      root: JSON.parse(root.json) as TufMetadataJson,
    });
  });

  // ── publishing ─────────────────────────────────────────────────────────────────────────────────────────────
  app.get(
    '/publish/:region/:channel',
    { schema: { params: repoParams, response: { 200: z.object({ regionPublicKey: z.string(), targets: tufMetadataSchema.nullable() }) } } },
    async (req) => {
      await authorize(store, req, ['publisher']);
      await requireRepository(req.params.region, req.params.channel);
      const key = await store.regionKey(req.params.region, generateX25519KeyPair);
      return { regionPublicKey: key.publicKey, targets: await repos.headTargets(req.params.region, req.params.channel) };
    },
  );

  app.post(
    '/publish/:region/:channel',
    { bodyLimit: options.maxBundleBytes ?? 64 * 1_048_576, schema: { params: repoParams, body: publishBodySchema, response: { 201: publishedSchema } } },
    async (req, reply) => {
      const publisher = await authorize(store, req, ['publisher']);
      await requireRepository(req.params.region, req.params.channel);
      const bundle = Buffer.from(req.body.bundle, 'base64');
      const published = await repos.publish(
        req.params.region,
        req.params.channel,
        { targetName: req.body.targetName, bundle, targets: req.body.targets },
        publisher.id,
      );
      webhooks.kick();
      return reply.status(201).send(published);
    },
  );

  app.post(
    '/publish/:region/:channel/app',
    {
      bodyLimit: options.maxAppReleaseBytes ?? 512 * 1_048_576,
      schema: { params: repoParams, body: publishAppBodySchema, response: { 201: publishedSchema } },
    },
    async (req, reply) => {
      const who = await authorize(store, req, ['admin', 'publisher']);
      await requireRepository(req.params.region, req.params.channel);
      const files = new Map(req.body.files.map((f) => [f.name, Buffer.from(f.bytes, 'base64')]));
      if (files.size !== req.body.files.length) throw new AppraiseError('INVALID_INPUT', 'the release names one file twice');
      const feed = files.get(req.body.feedFile);
      if (!feed) throw new AppraiseError('INVALID_INPUT', `the release has no ${req.body.feedFile}`);
      files.delete(req.body.feedFile);
      // A release the device would refuse is refused here first, in words the publisher can act on.
      const extra = checkReleaseFiles(parseLatestYml(feed, req.body.feedFile), req.body.feedFile, files);
      if (extra.length > 0) throw new AppraiseError('INVALID_INPUT', `${req.body.feedFile} does not name ${extra.join(', ')}; publish only the files it lists`);
      const upload = req.body.files.map((f) => ({ targetName: `${APP_TARGET_PREFIX}${f.name}`, bytes: Buffer.from(f.bytes, 'base64') }));
      const published = await repos.publishFiles(req.params.region, req.params.channel, { files: upload, targets: req.body.targets }, who.id, 'app.publish');
      webhooks.kick();
      return reply.status(201).send(published);
    },
  );

  // ── what devices pull (tuf-js asks for these paths) ────────────────────────────────────────────────────────
  app.get('/repos/:region/:channel/metadata/:file', { schema: { params: repoParams.extend({ file: z.string().max(100) }) } }, async (req, reply) => {
    const who = await authorize(store, req, ['device', 'admin', 'publisher']);
    checkRegion(who, req.params.region, req.params.channel);
    const json = await repos.metadataFile(req.params.region, req.params.channel, req.params.file);
    if (json === null) throw new AppraiseError('NOT_FOUND', `no metadata ${req.params.file}`);
    return reply.type('application/json').send(json);
  });

  // Model bundles and app release files are both TUF targets, fetched by their hash-prefixed names; only the folder
  // (and the longer installer names) differs.
  for (const [folder, maxName] of [
    ['models', 200],
    ['app', 300],
  ] as const) {
    app.get(
      `/repos/:region/:channel/targets/${folder}/:file`,
      { schema: { params: repoParams.extend({ file: z.string().max(maxName) }) } },
      async (req, reply) => {
        const who = await authorize(store, req, ['device', 'admin', 'publisher']);
        checkRegion(who, req.params.region, req.params.channel);
        const m = /^([0-9a-f]{64})\.(.+)$/.exec(req.params.file);
        const bytes = m ? await store.blob(req.params.region, req.params.channel, m[1], m[2]) : null;
        if (!bytes) throw new AppraiseError('NOT_FOUND', `no target ${req.params.file}`);
        return reply.type('application/octet-stream').send(bytes);
      },
    );
  }

  // electron-updater's generic provider, straight from the current release. The app itself reads the feed
  // through TUF (core/sync/app-update-check.ts); this is for tools that cannot, and electron-updater checks sha512.
  app.get('/updates/:region/:channel/:file', { schema: { params: repoParams.extend({ file: z.string().max(200) }) } }, async (req, reply) => {
    const who = await authorize(store, req, ['device', 'admin', 'publisher']);
    checkRegion(who, req.params.region, req.params.channel);
    const bytes = await repos.currentTarget(req.params.region, req.params.channel, `${APP_TARGET_PREFIX}${req.params.file}`);
    if (!bytes) throw new AppraiseError('NOT_FOUND', `no app release file ${req.params.file} in ${req.params.region}/${req.params.channel}`);
    return reply.type(req.params.file.endsWith('.yml') ? 'text/yaml' : 'application/octet-stream').send(bytes);
  });

  // ── reports ────────────────────────────────────────────────────────────────────────────────────────────────
  app.post(
    '/reports',
    { bodyLimit: 4 * 1_048_576 + 4096, schema: { body: reportBodySchema, response: { 200: reportAcceptedSchema, 201: reportAcceptedSchema } } },
    async (req, reply) => {
      const device = await authorize(store, req, ['device']);
      if (!device.publicKey || !verifyBytes(device.publicKey, Buffer.from(req.body.sealedJson), req.body.signature)) {
        throw new AppraiseError('FORBIDDEN', "the report's signature is not this device's");
      }
      const box = parseSealedBox(Buffer.from(req.body.sealedJson));
      if (box.recipientPublicKey !== reportKey.publicKey)
        throw new AppraiseError('INVALID_INPUT', "the report is not encrypted for this registry's report key");
      const id = `report_${randomUUID()}`;
      const receivedAt = new Date().toISOString();
      const region = device.region ?? '';
      // The notice names the report, never its contents: those stay encrypted until an admin reads them.
      const { report, duplicate } = await store.addReport(
        { id, deviceId: device.id, region, idempotencyKey: req.body.idempotencyKey, receivedAt, sealedJson: req.body.sealedJson },
        { event: 'report.received', payload: { reportId: id, deviceId: device.id, region, channel: device.channel, receivedAt } },
      );
      if (!duplicate) webhooks.kick();
      return reply.status(duplicate ? 200 : 201).send({ id: report.id, duplicate });
    },
  );

  async function requireRepository(region: string, channel: z.output<typeof channelSchema>): Promise<void> {
    if (!(await store.hasRepository(region, channel))) throw new AppraiseError('NOT_FOUND', `no repository ${region}/${channel}; an admin creates it first`);
  }

  webhooks.start();
  let closing: Promise<void> | null = null;
  return {
    app,
    store,
    webhooks,
    async bootstrapAdmin(name) {
      const token = newToken('apt');
      const id = `admin_${randomUUID()}`;
      await store.addCredential({ id, role: 'admin', name, region: null, channel: null, publicKey: null, tokenHash: hashSecret(token) }, 'bootstrap');
      return { id, token };
    },
    close: () => (closing ??= app.close().then(() => webhooks.stop().then(() => store.close()))),
  };
}

/** Starts the registry on `host:port` (default 127.0.0.1 and a free port); returns its base URL. */
export async function listen(registry: Registry, opts: { host?: string; port?: number } = {}): Promise<string> {
  await registry.app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 });
  const address = registry.app.server.address();
  if (address === null || typeof address === 'string') throw new AppraiseError('INTERNAL', 'the registry is not listening on TCP');
  return `http://${opts.host ?? '127.0.0.1'}:${address.port}`;
}
