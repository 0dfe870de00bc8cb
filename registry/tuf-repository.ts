import { createHash } from 'node:crypto';
import type { Metadata, Root, Targets } from '@tufjs/models';
import { AppraiseError } from '../core/common/errors.js';
import type { Ed25519Key } from '../core/sync/signing-keys.js';
import type { Channel, TufMetadataJson } from './registry-schemas.js';
import type { RegistryStore } from './registry-store.js';
import { buildSnapshot, buildTimestamp, parseMetadata, signMetadata } from './tuf-metadata.js';

export interface TufRepositoryOptions {
  /** How long a timestamp is valid; devices refuse an older one (freeze attack). Default 1 day. */
  timestampTtlMs?: number;
  /** Default 7 days. */
  snapshotTtlMs?: number;
  /**
   * Re-sign the timestamp when less than half its life is left, as it is served. Default true; false only to
   * simulate a frozen server in tests.
   */
  renewTimestamp?: boolean;
}

/**
 * The registry's half of TUF, one repository per region × channel: it accepts root metadata signed offline by a
 * threshold of root keys, accepts targets signed by the publisher key that root names, and signs snapshot and
 * timestamp itself with its online key. It never holds a root or targets private key, so a stolen registry can
 * freeze devices for at most a timestamp's life but cannot make them install anything.
 */
export class TufRepositories {
  private readonly timestampTtlMs: number;
  private readonly snapshotTtlMs: number;
  private readonly renewTimestamp: boolean;

  constructor(
    private readonly store: RegistryStore,
    private readonly onlineKey: Ed25519Key,
    options: TufRepositoryOptions = {},
  ) {
    this.timestampTtlMs = options.timestampTtlMs ?? 86_400_000;
    this.snapshotTtlMs = options.snapshotTtlMs ?? 7 * 86_400_000;
    this.renewTimestamp = options.renewTimestamp ?? true;
  }

  private async currentRoot(region: string, channel: Channel): Promise<Metadata<Root> | null> {
    const latest = await this.store.latestMetadata(region, channel, 'root');
    return latest ? parseMetadata('root', JSON.parse(latest.json)) : null;
  }

  /**
   * Checks that `json` is the repository's next root: version one up, naming the registry's online key for
   * snapshot and timestamp, signed by a threshold of its own root keys and (after version 1) of the current ones.
   */
  private async nextRoot(region: string, channel: Channel, json: TufMetadataJson): Promise<Metadata<Root>> {
    const root = parseMetadata('root', json);
    const previous = await this.currentRoot(region, channel);
    const expected = (previous?.signed.version ?? 0) + 1;
    if (root.signed.version !== expected)
      throw new AppraiseError('CONFLICT', `root version must be ${expected} (the repository is at ${expected - 1}); got ${root.signed.version}`);
    const online = this.onlineKey.keyId;
    for (const role of ['snapshot', 'timestamp']) {
      if (!root.signed.roles[role]?.keyIDs.includes(online))
        throw new AppraiseError('INVALID_INPUT', `root must name the registry's online key ${online.slice(0, 12)} for the ${role} role`);
    }
    try {
      if (previous) previous.verifyDelegate('root', root);
      root.verifyDelegate('root', root);
    } catch (e) {
      throw new AppraiseError(
        'FORBIDDEN',
        `root is not signed by enough root keys (${previous ? 'of the current root and ' : ''}of its own): ${(e as Error).message}`,
      );
    }
    return root;
  }

  /** The current targets, parsed, or null before the first publish. */
  private async currentTargets(region: string, channel: Channel): Promise<Metadata<Targets> | null> {
    const latest = await this.store.latestMetadata(region, channel, 'targets');
    return latest ? parseMetadata('targets', JSON.parse(latest.json)) : null;
  }

  /**
   * Accepts root version 1 (self-signed by its threshold) or the next version (signed by the old and the new root).
   * A root under which the current targets no longer verify (other targets keys) is refused: devices would take it
   * and then refuse every model until the next publish. That change goes through `rotate`, which re-signs them.
   */
  async acceptRoot(region: string, channel: Channel, json: TufMetadataJson, actor: string): Promise<{ version: number }> {
    const root = await this.nextRoot(region, channel, json);
    const targets = await this.currentTargets(region, channel);
    if (targets && !verifies(root, 'targets', targets))
      throw new AppraiseError(
        'CONFLICT',
        `this root names other targets keys than the ones the current ${region}/${channel} targets are signed with; rotate the publisher key with appraise registry rotate-key, which re-signs the current targets with the new key`,
      );
    const ok = await this.store.putMetadata(region, channel, [{ role: 'root', version: root.signed.version, json: JSON.stringify(root.toJSON()) }], [], {
      actor,
      action: 'root.accept',
      subject: `${region}/${channel}`,
      details: { version: root.signed.version },
    });
    if (!ok) throw new AppraiseError('CONFLICT', `root version ${root.signed.version} was just stored by another request`);
    return { version: root.signed.version };
  }

  /**
   * A key rotation in one transaction: the next root, and the current targets one version up with the very same
   * target files, signed by the targets key the new root names; then a new snapshot and timestamp. Devices take
   * the new root (tuf-js checks the old and new root signatures), then targets that only the new key could sign.
   * Targets may be left out when the targets keys do not change (a rotation of root keys only).
   */
  async rotate(region: string, channel: Channel, input: { root: TufMetadataJson; targets: TufMetadataJson | null }, actor: string) {
    const root = await this.nextRoot(region, channel, input.root);
    const previous = await this.currentTargets(region, channel);
    const entries = [{ role: 'root', version: root.signed.version, json: JSON.stringify(root.toJSON()) }];
    let versions = { targetsVersion: null as number | null, snapshotVersion: null as number | null, timestampVersion: null as number | null };
    if (!previous && input.targets)
      throw new AppraiseError('INVALID_INPUT', `nothing is published in ${region}/${channel} yet, so there are no targets to re-sign; send the root alone`);
    if (previous && !input.targets && !verifies(root, 'targets', previous))
      throw new AppraiseError(
        'INVALID_INPUT',
        `the new root names other targets keys, so the current ${region}/${channel} targets must be re-signed with the new key (send them one version up)`,
      );
    if (previous && input.targets) {
      const targets = parseMetadata('targets', input.targets);
      if (!verifies(root, 'targets', targets))
        throw new AppraiseError('FORBIDDEN', 'the re-signed targets are not signed by the targets key the new root names');
      if (targets.signed.version !== previous.signed.version + 1)
        throw new AppraiseError(
          'CONFLICT',
          `targets version must be ${previous.signed.version + 1}; got ${targets.signed.version} (fetch the current targets and sign again)`,
        );
      const before = previous.signed.targets;
      const after = targets.signed.targets;
      const names = new Set([...Object.keys(before), ...Object.keys(after)]);
      for (const name of names) {
        if (!before[name] || !after[name] || !before[name].equals(after[name]))
          throw new AppraiseError('INVALID_INPUT', `a rotation re-signs the current targets unchanged; ${name} was added, removed or changed`);
      }
      const snapshotVersion = ((await this.store.latestMetadata(region, channel, 'snapshot'))?.version ?? 0) + 1;
      const timestampVersion = ((await this.store.latestMetadata(region, channel, 'timestamp'))?.version ?? 0) + 1;
      const snapshot = JSON.stringify(signMetadata(buildSnapshot(snapshotVersion, targets.signed.version, this.snapshotTtlMs), this.onlineKey).toJSON());
      const timestamp = JSON.stringify(signMetadata(buildTimestamp(timestampVersion, snapshot, snapshotVersion, this.timestampTtlMs), this.onlineKey).toJSON());
      entries.push(
        { role: 'targets', version: targets.signed.version, json: JSON.stringify(targets.toJSON()) },
        { role: 'snapshot', version: snapshotVersion, json: snapshot },
        { role: 'timestamp', version: timestampVersion, json: timestamp },
      );
      versions = { targetsVersion: targets.signed.version, snapshotVersion, timestampVersion };
    }
    const ok = await this.store.putMetadata(region, channel, entries, [], {
      actor,
      action: 'root.rotate',
      subject: `${region}/${channel}`,
      details: {
        rootVersion: root.signed.version,
        targetsVersion: versions.targetsVersion,
        rootKeys: root.signed.roles.root.keyIDs,
        rootThreshold: root.signed.roles.root.threshold,
        targetsKeys: root.signed.roles.targets.keyIDs,
      },
    });
    if (!ok) throw new AppraiseError('CONFLICT', 'another change to this repository won the race; fetch the current root and targets and sign again');
    return { rootVersion: root.signed.version, ...versions };
  }

  /** The current root and targets (JSON), for an admin signing the next root. */
  async head(region: string, channel: Channel): Promise<{ root: TufMetadataJson | null; targets: TufMetadataJson | null }> {
    const root = await this.store.latestMetadata(region, channel, 'root');
    return { root: root ? (JSON.parse(root.json) as TufMetadataJson) : null, targets: await this.headTargets(region, channel) };
  }

  /** The publisher's current targets (to build the next version on), or null before the first publish. */
  async headTargets(region: string, channel: Channel): Promise<TufMetadataJson | null> {
    const latest = await this.store.latestMetadata(region, channel, 'targets');
    return latest ? (JSON.parse(latest.json) as TufMetadataJson) : null;
  }

  /**
   * Publishes a new model bundle: targets signed by the publisher, exactly one version up, every earlier target
   * unchanged, the new target's length and hash those of the uploaded bytes; then a new snapshot and timestamp.
   */
  async publish(region: string, channel: Channel, input: { targetName: string; bundle: Buffer; targets: TufMetadataJson }, actor: string) {
    return this.publishFiles(
      region,
      channel,
      { files: [{ targetName: input.targetName, bytes: input.bundle }], targets: input.targets },
      actor,
      'model.publish',
    );
  }

  /**
   * Publishes several files in one targets version (an app release: installer and its `latest*.yml`), with the
   * same rules as a model: signed by the publisher key root names, one version up, each uploaded file listed with
   * its length and sha256, and no other target added or changed.
   */
  async publishFiles(
    region: string,
    channel: Channel,
    input: { files: { targetName: string; bytes: Buffer }[]; targets: TufMetadataJson },
    actor: string,
    action: string,
  ) {
    const root = await this.currentRoot(region, channel);
    if (!root) throw new AppraiseError('CONFLICT', `repository ${region}/${channel} has no root metadata yet; an admin must upload one first`);
    const targets = parseMetadata('targets', input.targets);
    try {
      root.verifyDelegate('targets', targets);
    } catch (e) {
      throw new AppraiseError('FORBIDDEN', `targets metadata is not signed by the publisher key that root names: ${(e as Error).message}`);
    }
    const prevJson = await this.store.latestMetadata(region, channel, 'targets');
    const previous: Metadata<Targets> | null = prevJson ? parseMetadata('targets', JSON.parse(prevJson.json)) : null;
    const expected = (previous?.signed.version ?? 0) + 1;
    if (targets.signed.version !== expected)
      throw new AppraiseError('CONFLICT', `targets version must be ${expected}; got ${targets.signed.version} (fetch the current targets and sign again)`);
    const uploaded = new Map<string, { sha: string; bytes: Buffer }>();
    for (const f of input.files) {
      const entry = targets.signed.targets[f.targetName];
      const sha = createHash('sha256').update(f.bytes).digest('hex');
      if (!entry || entry.length !== f.bytes.length || entry.hashes.sha256 !== sha)
        throw new AppraiseError('INVALID_INPUT', `targets metadata does not list ${f.targetName} with the uploaded file's length and sha256`);
      uploaded.set(f.targetName, { sha, bytes: f.bytes });
    }
    for (const [name, t] of Object.entries(targets.signed.targets)) {
      if (uploaded.has(name)) continue;
      const before = previous?.signed.targets[name];
      if (!before || !before.equals(t))
        throw new AppraiseError('INVALID_INPUT', `targets metadata changes or adds ${name}, which is not a file being published`);
    }
    const snapshotVersion = ((await this.store.latestMetadata(region, channel, 'snapshot'))?.version ?? 0) + 1;
    const timestampVersion = ((await this.store.latestMetadata(region, channel, 'timestamp'))?.version ?? 0) + 1;
    const snapshot = JSON.stringify(signMetadata(buildSnapshot(snapshotVersion, targets.signed.version, this.snapshotTtlMs), this.onlineKey).toJSON());
    const timestamp = JSON.stringify(signMetadata(buildTimestamp(timestampVersion, snapshot, snapshotVersion, this.timestampTtlMs), this.onlineKey).toJSON());
    const names = [...uploaded.keys()];
    const ok = await this.store.putMetadata(
      region,
      channel,
      [
        { role: 'targets', version: targets.signed.version, json: JSON.stringify(targets.toJSON()) },
        { role: 'snapshot', version: snapshotVersion, json: snapshot },
        { role: 'timestamp', version: timestampVersion, json: timestamp },
      ],
      [...uploaded].map(([name, f]) => ({ sha256: f.sha, name: name.slice(name.lastIndexOf('/') + 1), bytes: f.bytes })),
      {
        actor,
        action,
        subject: `${region}/${channel}/${names.length === 1 ? names[0] : names.join(',')}`,
        details: { targetsVersion: targets.signed.version, sha256: names.length === 1 ? uploaded.get(names[0])!.sha : names.map((n) => uploaded.get(n)!.sha) },
      },
      // Queued in the same transaction: a published model is always announced, and nothing unpublished ever is.
      {
        event: action === 'app.publish' ? 'app.published' : 'model.published',
        payload: {
          region,
          channel,
          targetsVersion: targets.signed.version,
          targets: names.map((n) => ({
            name: n,
            length: uploaded.get(n)!.bytes.length,
            sha256: uploaded.get(n)!.sha,
            custom: targets.signed.targets[n].custom ?? {},
          })),
          publishedBy: actor,
        },
      },
    );
    if (!ok) throw new AppraiseError('CONFLICT', 'another publish to this repository won the race; fetch the current targets and sign again');
    return { targetsVersion: targets.signed.version, snapshotVersion, timestampVersion };
  }

  /** The bytes of the current version of target `name` (the generic update feed serves `app/…` this way), or null. */
  async currentTarget(region: string, channel: Channel, name: string): Promise<Buffer | null> {
    const head = await this.store.latestMetadata(region, channel, 'targets');
    const entry = head ? parseMetadata('targets', JSON.parse(head.json)).signed.targets[name] : undefined;
    if (!entry) return null;
    return this.store.blob(region, channel, entry.hashes.sha256, name.slice(name.lastIndexOf('/') + 1));
  }

  /**
   * A metadata file as tuf-js asks for it: `N.root.json`, `timestamp.json`, `N.snapshot.json`, `N.targets.json`.
   * Null (404) for anything else, which is also how tuf-js learns there is no newer root.
   */
  async metadataFile(region: string, channel: Channel, file: string): Promise<string | null> {
    if (file === 'timestamp.json') return this.timestamp(region, channel);
    const m = /^([1-9]\d{0,8})\.(root|snapshot|targets)\.json$/.exec(file);
    if (!m) return null;
    return this.store.metadata(region, channel, m[2], Number(m[1]));
  }

  private async timestamp(region: string, channel: Channel): Promise<string | null> {
    const latest = await this.store.latestMetadata(region, channel, 'timestamp');
    if (!latest || !this.renewTimestamp) return latest?.json ?? null;
    const expires = Date.parse(parseMetadata('timestamp', JSON.parse(latest.json)).signed.expires);
    if (expires - Date.now() > this.timestampTtlMs / 2) return latest.json;
    const snapshot = await this.store.latestMetadata(region, channel, 'snapshot');
    if (!snapshot) return latest.json;
    const json = JSON.stringify(
      signMetadata(buildTimestamp(latest.version + 1, snapshot.json, snapshot.version, this.timestampTtlMs), this.onlineKey).toJSON(),
    );
    // Two instances renewing at once: one wins, the other serves the winner's.
    const ok = await this.store.putMetadata(region, channel, [{ role: 'timestamp', version: latest.version + 1, json }], [], null);
    return ok ? json : ((await this.store.latestMetadata(region, channel, 'timestamp'))?.json ?? null);
  }
}

/** Whether `md` carries a threshold of valid signatures by the keys `root` names for `role`. */
function verifies(root: Metadata<Root>, role: 'targets', md: Metadata<Targets>): boolean {
  try {
    root.verifyDelegate(role, md);
    return true;
  } catch {
    return false;
  }
}
