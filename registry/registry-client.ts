import { z } from 'zod';
import { AppraiseError } from '../core/common/errors.js';
import type { StoredModel } from '../core/models/model-store.js';
import { packBundle } from '../core/sync/model-bundle.js';
import { seal } from '../core/sync/sealed-box.js';
import type { Ed25519Key } from '../core/sync/signing-keys.js';
import {
  enrolmentCodeSchema,
  publishedSchema,
  repositoryKeysSchema,
  tufMetadataSchema,
  webhookCreatedSchema,
  webhookDeliverySchema,
  webhookSummarySchema,
  type Channel,
  type WebhookEvent,
} from './registry-schemas.js';
import { APP_TARGET_PREFIX, parseLatestYml } from '../core/sync/app-release.js';
import { buildRoot, metadataJson, nextTargets, nextTargetsWith, parseMetadata, signMetadata } from './tuf-metadata.js';

/**
 * The admin's and the publisher's side of the registry API, run on their own machines: the private root and
 * targets keys are used here and never sent.
 */
export class RegistryClient {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  async call<S extends z.ZodType>(method: string, path: string, body: unknown, schema: S): Promise<z.output<S>> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.url), {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(120_000),
      });
    } catch (e) {
      throw new AppraiseError('OFFLINE', `cannot reach the registry at ${this.url}: ${(e as Error).message}`);
    }
    const json = (await response.json().catch(() => null)) as unknown;
    if (!response.ok) {
      const err = (json as { error?: { code?: string; message?: string } } | null)?.error;
      const code =
        response.status === 401
          ? 'UNAUTHORIZED'
          : response.status === 403
            ? 'FORBIDDEN'
            : response.status === 404
              ? 'NOT_FOUND'
              : response.status === 409
                ? 'CONFLICT'
                : response.status === 429
                  ? 'RATE_LIMITED'
                  : response.status >= 500
                    ? 'OFFLINE'
                    : 'INVALID_INPUT';
      throw new AppraiseError(code, `registry: ${err?.message ?? `HTTP ${response.status}`}`);
    }
    return schema.parse(json);
  }

  createEnrolmentCode(region: string, channel: Channel, ttlSeconds = 86_400) {
    return this.call('POST', '/admin/enrolment-codes', { region, channel, ttlSeconds }, enrolmentCodeSchema);
  }

  revokeDevice(id: string) {
    return this.call('POST', `/admin/devices/${encodeURIComponent(id)}/revoke`, {}, z.object({ id: z.string(), revoked: z.boolean() }));
  }

  /** Registers a webhook; the answer carries its signing secret, shown this once. */
  addWebhook(url: string, events: WebhookEvent[], description = '') {
    return this.call('POST', '/admin/webhooks', { url, events, description }, webhookCreatedSchema);
  }

  async listWebhooks() {
    return (await this.call('GET', '/admin/webhooks', undefined, z.object({ webhooks: z.array(webhookSummarySchema) }))).webhooks;
  }

  disableWebhook(id: string) {
    return this.call('DELETE', `/admin/webhooks/${encodeURIComponent(id)}`, undefined, webhookSummarySchema);
  }

  async webhookDeliveries(id: string, limit = 100) {
    return (
      await this.call(
        'GET',
        `/admin/webhooks/${encodeURIComponent(id)}/deliveries?limit=${limit}`,
        undefined,
        z.object({ deliveries: z.array(webhookDeliverySchema) }),
      )
    ).deliveries;
  }

  /**
   * Creates a region × channel repository and uploads its first root: `threshold` of `rootKeys` sign it; it names
   * `publisherKeys` for targets and the registry's online key for snapshot and timestamp.
   */
  async createRepository(
    region: string,
    channel: Channel,
    keys: { root: Ed25519Key[]; threshold: number; publishers: Pick<Ed25519Key, 'keyId' | 'publicKey'>[] },
  ) {
    const repo = await this.call('POST', '/admin/repositories', { region, channel }, repositoryKeysSchema);
    const root = buildRoot(1, { root: keys.root, rootThreshold: keys.threshold, targets: keys.publishers, online: repo.onlineKey });
    signMetadata(root, ...keys.root.slice(0, keys.threshold));
    await this.call('PUT', `/admin/repositories/${region}/${channel}/root`, metadataJson(root), z.object({ version: z.number() }));
    return repo;
  }

  /** Signs and uploads the next root version (key rotation): signed by `threshold` old root keys and `threshold` new ones. */
  async rotateRoot(
    region: string,
    channel: Channel,
    version: number,
    keys: { oldRoot: Ed25519Key[]; newRoot: Ed25519Key[]; threshold: number; publishers: Pick<Ed25519Key, 'keyId' | 'publicKey'>[] },
  ) {
    const repo = await this.call('POST', '/admin/repositories', { region, channel }, repositoryKeysSchema);
    const root = buildRoot(version, { root: keys.newRoot, rootThreshold: keys.threshold, targets: keys.publishers, online: repo.onlineKey });
    signMetadata(root, ...keys.oldRoot.slice(0, keys.threshold), ...keys.newRoot.slice(0, keys.threshold));
    return this.call('PUT', `/admin/repositories/${region}/${channel}/root`, metadataJson(root), z.object({ version: z.number() }));
  }

  /**
   * Publishes a model to a repository: packs the whole model into one bundle, encrypts it for the region's key,
   * adds it to the current targets one version up and signs that with the publisher's key.
   */
  async publishModel(region: string, channel: Channel, model: StoredModel, publisherKey: Ed25519Key) {
    const regionPublicKey = await this.regionPublicKey(region, channel);
    const sealed = Buffer.from(JSON.stringify(seal(packBundle(model), regionPublicKey)));
    return this.publishBytes(region, channel, { modelId: model.summary.id, name: model.summary.name }, sealed, publisherKey);
  }

  async regionPublicKey(region: string, channel: Channel): Promise<string> {
    return (await this.head(region, channel)).regionPublicKey;
  }

  private head(region: string, channel: Channel) {
    return this.call('GET', `/publish/${region}/${channel}`, undefined, z.object({ regionPublicKey: z.string(), targets: tufMetadataSchema.nullable() }));
  }

  /** Signs `bytes` (an encrypted bundle) into the next targets version as model `model.modelId` and uploads both. */
  async publishBytes(region: string, channel: Channel, model: { modelId: string; name: string }, bytes: Buffer, publisherKey: Ed25519Key) {
    const head = await this.head(region, channel);
    const name = `models/${model.modelId}.bundle`;
    const previous = head.targets ? parseMetadata('targets', head.targets) : null;
    const targets = signMetadata(nextTargets(previous, { name, bytes, custom: { modelId: model.modelId, name: model.name } }), publisherKey);
    return this.call(
      'POST',
      `/publish/${region}/${channel}`,
      { targetName: name, bundle: bytes.toString('base64'), targets: metadataJson(targets) },
      publishedSchema,
    );
  }

  /**
   * Publishes an app release to a repository: the feed file (`latest*.yml`, as electron-builder wrote it) and the
   * files it names become targets `app/<name>` in one targets version signed with the publisher's key, so devices
   * take the feed and the installer only together and only as signed.
   */
  async publishApp(region: string, channel: Channel, release: { feedFile: string; files: { name: string; bytes: Buffer }[] }, publisherKey: Ed25519Key) {
    const feed = release.files.find((f) => f.name === release.feedFile);
    if (!feed) throw new AppraiseError('INVALID_INPUT', `the release has no ${release.feedFile}`);
    const { version } = parseLatestYml(feed.bytes, release.feedFile);
    const head = await this.head(region, channel);
    const previous = head.targets ? parseMetadata('targets', head.targets) : null;
    const targets = signMetadata(
      nextTargetsWith(
        previous,
        release.files.map((f) => ({ name: `${APP_TARGET_PREFIX}${f.name}`, bytes: f.bytes, custom: { kind: 'app', version } })),
      ),
      publisherKey,
    );
    return this.call(
      'POST',
      `/publish/${region}/${channel}/app`,
      { feedFile: release.feedFile, files: release.files.map((f) => ({ name: f.name, bytes: f.bytes.toString('base64') })), targets: metadataJson(targets) },
      publishedSchema,
    );
  }
}
