import { createHash } from 'node:crypto';
import { Key, Metadata, MetadataKind, Root, Signature, Snapshot, TargetFile, Targets, Timestamp, MetaFile } from '@tufjs/models';
import { AppraiseError } from '../core/common/errors.js';
import { signBytes, type Ed25519Key } from '../core/sync/signing-keys.js';
import type { TufMetadataJson } from './registry-schemas.js';

/**
 * Building and signing TUF metadata with @tufjs/models, for the three custodians: the admin (root, offline keys
 * with a threshold), the publisher (targets, on the analyst's machine) and the registry (snapshot and timestamp,
 * online). Verification on devices is tuf-js's, not ours.
 */
export const SPEC_VERSION = '1.0.31';

export function tufKey(publicKeyHex: string, keyId: string): Key {
  return new Key({ keyID: keyId, keyType: 'ed25519', scheme: 'ed25519', keyVal: { public: publicKeyHex } });
}

export function signMetadata<T extends Root | Targets | Snapshot | Timestamp>(md: Metadata<T>, ...keys: Ed25519Key[]): Metadata<T> {
  for (const key of keys) md.sign((data) => new Signature({ keyID: key.keyId, sig: signBytes(key, data) }));
  return md;
}

const isoIn = (ms: number) => new Date(Date.now() + ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface RootKeys {
  /** Root keys (public halves suffice to build; signing needs `threshold` of the private halves). */
  root: { keyId: string; publicKey: string }[];
  rootThreshold: number;
  targets: { keyId: string; publicKey: string }[];
  /** The registry's online key, for snapshot and timestamp. */
  online: { keyId: string; publicKey: string };
}

/** An unsigned root of the given version; consistent snapshots on, so every metadata file is immutable once served. */
export function buildRoot(version: number, keys: RootKeys, expiresInMs = 365 * 86_400_000): Metadata<Root> {
  const root = new Root({ version, specVersion: SPEC_VERSION, expires: isoIn(expiresInMs), consistentSnapshot: true });
  for (const k of keys.root) root.addKey(tufKey(k.publicKey, k.keyId), MetadataKind.Root);
  for (const k of keys.targets) root.addKey(tufKey(k.publicKey, k.keyId), MetadataKind.Targets);
  root.addKey(tufKey(keys.online.publicKey, keys.online.keyId), MetadataKind.Snapshot);
  root.addKey(tufKey(keys.online.publicKey, keys.online.keyId), MetadataKind.Timestamp);
  // @tufjs/models does not export Role; the root threshold is set through the JSON form it round-trips.
  const json = root.toJSON() as { roles: Record<string, { threshold: number }> };
  json.roles[MetadataKind.Root].threshold = keys.rootThreshold;
  return new Metadata(Root.fromJSON(json as unknown as Parameters<typeof Root.fromJSON>[0]));
}

/**
 * The next targets metadata: the previous one's targets plus `target` (the new model bundle), one version up.
 * `custom` travels signed with the target (the model id, so a bundle cannot claim to be another model).
 */
export function nextTargets(
  previous: Metadata<Targets> | null,
  target: { name: string; bytes: Uint8Array; custom: Record<string, string> },
  expiresInMs = 90 * 86_400_000,
): Metadata<Targets> {
  return nextTargetsWith(previous, [target], expiresInMs);
}

/** The next targets metadata with several files added (or, for a name already there, replaced), one version up. */
export function nextTargetsWith(
  previous: Metadata<Targets> | null,
  files: { name: string; bytes: Uint8Array; custom: Record<string, string> }[],
  expiresInMs = 90 * 86_400_000,
): Metadata<Targets> {
  const targets = new Targets({ version: (previous?.signed.version ?? 0) + 1, specVersion: SPEC_VERSION, expires: isoIn(expiresInMs) });
  for (const t of Object.values(previous?.signed.targets ?? {})) targets.addTarget(t);
  for (const target of files) {
    targets.addTarget(
      new TargetFile({
        path: target.name,
        length: target.bytes.length,
        hashes: { sha256: createHash('sha256').update(target.bytes).digest('hex') },
        unrecognizedFields: { custom: target.custom },
      }),
    );
  }
  return new Metadata(targets);
}

/** The current targets one version up with the very same files and a fresh expiry, to be signed by a new key. */
export function resignedTargets(previous: Metadata<Targets>, expiresInMs = 90 * 86_400_000): Metadata<Targets> {
  return nextTargetsWith(previous, [], expiresInMs);
}

export function buildSnapshot(version: number, targetsVersion: number, expiresInMs: number): Metadata<Snapshot> {
  return new Metadata(
    new Snapshot({ version, specVersion: SPEC_VERSION, expires: isoIn(expiresInMs), meta: { 'targets.json': new MetaFile({ version: targetsVersion }) } }),
  );
}

export function buildTimestamp(version: number, snapshotJson: string, snapshotVersion: number, expiresInMs: number): Metadata<Timestamp> {
  const bytes = Buffer.from(snapshotJson);
  const meta = new MetaFile({ version: snapshotVersion, length: bytes.length, hashes: { sha256: createHash('sha256').update(bytes).digest('hex') } });
  return new Metadata(new Timestamp({ version, specVersion: SPEC_VERSION, expires: isoIn(expiresInMs), snapshotMeta: meta }));
}

type Parsed = { root: Metadata<Root>; targets: Metadata<Targets>; snapshot: Metadata<Snapshot>; timestamp: Metadata<Timestamp> };

/** Parses metadata JSON of a given role; INVALID_INPUT (with @tufjs/models' reason) if it is not that. */
export function parseMetadata<K extends keyof Parsed>(role: K, json: unknown): Parsed[K] {
  try {
    const md = Metadata.fromJSON(role as MetadataKind.Root, json as Parameters<typeof Metadata.fromJSON>[1]);
    if (md.signed.type !== (role as string)) throw new Error(`expected ${role} metadata, got ${md.signed.type as string}`);
    return md as unknown as Parsed[K];
  } catch (e) {
    throw new AppraiseError('INVALID_INPUT', `not valid TUF ${role} metadata: ${(e as Error).message}`);
  }
}

export const metadataJson = (md: Metadata<Root | Targets | Snapshot | Timestamp>): TufMetadataJson => md.toJSON() as unknown as TufMetadataJson;
