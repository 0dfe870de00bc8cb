import { z } from 'zod';
import { AppraiseError } from '../core/common/errors.js';
import type { StoredModel } from '../core/models/model-store.js';
import { packBundle } from '../core/sync/model-bundle.js';
import { seal } from '../core/sync/sealed-box.js';
import type { Ed25519Key } from '../core/sync/signing-keys.js';
import {
  enrolmentCodeSchema,
  publishedSchema,
  repositoryHeadSchema,
  repositoryKeysSchema,
  rotatedSchema,
  tufMetadataSchema,
  webhookCreatedSchema,
  webhookDeliverySchema,
  webhookSummarySchema,
  type Channel,
  type WebhookEvent,
} from './registry-schemas.js';
import { APP_TARGET_PREFIX, parseLatestYml } from '../core/sync/app-release.js';
import { buildRoot, metadataJson, nextTargets, nextTargetsWith, parseMetadata, resignedTargets, signMetadata } from './tuf-metadata.js';

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

  /** The repository's current root and targets metadata. */
  repositoryHead(region: string, channel: Channel) {
    return this.call('GET', `/admin/repositories/${region}/${channel}`, undefined, repositoryHeadSchema);
  }

  /**
   * Rotates a repository's keys per TUF, in one request: the next root names `newRoot` (default: the current root
   * keys) with `threshold` (default: the current one) and `publishers` as targets keys (default: the current
   * ones). It is signed by a threshold of the current root keys (`currentRoot`, private halves, read from the
   * current root which of them count) and by `threshold` of the new ones; when the targets keys change, the
   * current targets are re-signed one version up, unchanged, by `publishers[0]`. The old targets key is revoked
   * from then on: neither the registry nor a device accepts targets signed by it.
   */
  async rotateKeys(
    region: string,
    channel: Channel,
    keys: { currentRoot: Ed25519Key[]; newRoot?: Ed25519Key[]; threshold?: number; publishers?: Ed25519Key[] },
  ) {
    const head = await this.repositoryHead(region, channel);
    if (!head.root) throw new AppraiseError('CONFLICT', `repository ${region}/${channel} has no root yet; create it with appraise registry create-repo`);
    const current = parseMetadata('root', head.root);
    const roles = current.signed.roles;
    const publicOf = (keyId: string) => {
      const key = current.signed.keys[keyId];
      return { keyId, publicKey: String(key.keyVal.public) };
    };
    const oldSigners = keys.currentRoot.filter((k) => roles.root.keyIDs.includes(k.keyId));
    if (oldSigners.length < roles.root.threshold)
      throw new AppraiseError(
        'INVALID_INPUT',
        `the current root of ${region}/${channel} needs ${roles.root.threshold} of its root keys to sign; ${oldSigners.length} of the given key files are among them`,
      );
    const newRoot = keys.newRoot ?? roles.root.keyIDs.map(publicOf);
    const threshold = keys.threshold ?? roles.root.threshold;
    if (!(threshold >= 1 && threshold <= newRoot.length))
      throw new AppraiseError('INVALID_INPUT', `the root threshold must be between 1 and the number of new root keys (${newRoot.length})`);
    const publishers = keys.publishers ?? roles.targets.keyIDs.map(publicOf);
    if (publishers.length === 0) throw new AppraiseError('INVALID_INPUT', 'root needs at least one publisher (targets) key');
    const root = buildRoot(current.signed.version + 1, {
      root: newRoot,
      rootThreshold: threshold,
      targets: publishers,
      online: publicOf(roles.snapshot.keyIDs[0]),
    });
    // Signatures are kept per key id, so a key that is both old and new signs once.
    signMetadata(root, ...oldSigners.slice(0, roles.root.threshold), ...(keys.newRoot ? keys.newRoot.slice(0, threshold) : []));
    // New publisher keys: the current targets, re-signed by the first, travel with the root that names them.
    const targets =
      head.targets && keys.publishers ? metadataJson(signMetadata(resignedTargets(parseMetadata('targets', head.targets)), keys.publishers[0])) : null;
    return this.call('POST', `/admin/repositories/${region}/${channel}/rotate`, { root: metadataJson(root), targets }, rotatedSchema);
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
