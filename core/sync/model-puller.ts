import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Updater } from 'tuf-js';
import { z } from 'zod';
import { AppraiseError, type ErrorCode } from '../common/errors.js';
import type { ModelService } from '../models/model-service.js';
import { importBundle, parseBundle } from './model-bundle.js';
import { AuthenticatedFetcher } from './registry-fetcher.js';
import { open, parseSealedBox } from './sealed-box.js';
import { modelTargetCustomSchema, type DeviceEnrolment, type PullResult, type RefusalReason, type TrustState } from './sync-schemas.js';
import { syncDir, trustedMetadataDir } from './device-enrolment.js';

/** Refusals that are not about the data itself; every other reason is a BAD_FILE (tampered, foreign, stale). */
const CODE_OF_REASON: Partial<Record<RefusalReason, ErrorCode>> = {
  offline: 'OFFLINE',
  unauthorized: 'UNAUTHORIZED',
  forbidden: 'FORBIDDEN',
  'rate-limited': 'RATE_LIMITED',
  'not-published': 'NOT_FOUND',
};

/** Reasons that stop a whole pull: the connection or the credential, not one target. */
const STOPS_THE_PULL: ReadonlySet<RefusalReason> = new Set(['offline', 'unauthorized', 'forbidden', 'rate-limited']);

export class SyncRefusal extends AppraiseError {
  constructor(
    readonly reason: RefusalReason,
    message: string,
    cause?: unknown,
  ) {
    super(CODE_OF_REASON[reason] ?? 'BAD_FILE', message, { details: { reason }, cause });
    this.name = 'AppraiseError';
  }
}

/**
 * Turns tuf-js's and @tufjs/models' errors into a refusal a person can read; `keeps` says what stays as it was
 * (the model by default; the installed app for an update check).
 */
export function refusal(e: unknown, e2: DeviceEnrolment, keeps = 'The current model keeps serving.'): SyncRefusal {
  if (e instanceof SyncRefusal) return e;
  if (e instanceof AppraiseError) return new SyncRefusal('bad-manifest', e.message, e);
  const message = e instanceof Error ? e.message : String(e);
  let kind = (e as { constructor?: { name?: string } })?.constructor?.name ?? '';
  // tuf-js wraps an expired timestamp met while loading the snapshot in a RuntimeError that keeps only the text.
  if (kind === 'RuntimeError' && /\.json is expired/.test(message)) kind = 'ExpiredMetadataError';
  const repo = `${e2.region}/${e2.channel}`;
  switch (kind) {
    case 'ExpiredMetadataError':
      return new SyncRefusal(
        'expired',
        `refused: the registry's ${repo} metadata has expired (${message}); the server may be frozen or replaying old data. ${keeps}`,
        e,
      );
    case 'BadVersionError':
      return new SyncRefusal(
        'rollback',
        `refused: the registry offered older ${repo} metadata than this device already trusts (${message}); a rollback was blocked.`,
        e,
      );
    case 'UnsignedMetadataError':
      return new SyncRefusal('unsigned', `refused: ${repo} metadata is not signed by the keys this device trusts (${message}).`, e);
    case 'LengthOrHashMismatchError':
      return new SyncRefusal(
        'hash-mismatch',
        `refused: a downloaded file does not match its signed length and hash (${message}); it was corrupted or swapped.`,
        e,
      );
    case 'DownloadLengthMismatchError':
      return new SyncRefusal('too-large', `refused: the registry sent more bytes than the signed metadata allows (${message}).`, e);
    case 'DownloadHTTPError': {
      const status = (e as { statusCode?: number }).statusCode ?? 0;
      if (status === 401) return new SyncRefusal('unauthorized', `the registry does not accept this device's token (revoked or unknown): ${message}`, e);
      if (status === 403) return new SyncRefusal('forbidden', `the registry refuses this device access to ${repo}: ${message}`, e);
      if (status === 404) return new SyncRefusal('not-published', `nothing is published for ${repo} yet`, e);
      if (status === 429) return new SyncRefusal('rate-limited', `the registry asked this device to slow down (too many requests); it will try again later`, e);
      return new SyncRefusal('offline', `the registry failed (${message}); will retry later`, e);
    }
    default:
      if (kind === 'TypeError' || /fetch failed|ECONNREFUSED|ECONNRESET|aborted|timeout/i.test(message))
        return new SyncRefusal('offline', `cannot reach the registry at ${e2.registryUrl}: ${message}`, e);
      if (kind.endsWith('Error') && kind !== 'Error')
        return new SyncRefusal('unsigned', `refused: the registry's metadata did not verify (${kind}: ${message})`, e);
      // Anything else is a bug on this side, not something the registry did: let it surface as one.
      throw e;
  }
}

const trustedTargetsSchema = z.object({
  signed: z.object({ targets: z.record(z.string(), z.object({ custom: z.unknown().optional() }).passthrough()) }).passthrough(),
});

/** The versions and expiry of the metadata this device trusts, read from its persisted copy. */
export function trustState(workspaceDir: string, enrolment: DeviceEnrolment): TrustState {
  const dir = trustedMetadataDir(workspaceDir, enrolment);
  const read = (role: string) => {
    const p = join(dir, `${role}.json`);
    if (!existsSync(p)) return null;
    return (JSON.parse(readFileSync(p, 'utf8')) as { signed: { version: number; expires: string } }).signed;
  };
  const ts = read('timestamp');
  return {
    rootVersion: read('root')?.version ?? null,
    timestampVersion: ts?.version ?? null,
    snapshotVersion: read('snapshot')?.version ?? null,
    targetsVersion: read('targets')?.version ?? null,
    timestampExpires: ts?.expires ?? null,
  };
}

/**
 * One pull: tuf-js refreshes the repository's metadata (root rotation, rollback, freeze and mix-and-match checks,
 * persisted in the workspace so they survive restarts), then every target this workspace does not have yet is
 * downloaded (length-bounded, hash-verified), decrypted with the region key, checked against its signed model id
 * and the local manifest schema, and imported as a challenger. Metadata that does not verify (expired, rolled
 * back, wrongly signed) raises a `SyncRefusal` and nothing is downloaded; a target that does not verify is listed
 * in `refused` and imports nothing. The champion is never touched here.
 */
export async function pullModels(
  workspaceDir: string,
  enrolment: DeviceEnrolment,
  models: ModelService,
  options: { signal?: AbortSignal } = {},
): Promise<PullResult> {
  const base = `${enrolment.registryUrl}/repos/${enrolment.region}/${enrolment.channel}`;
  const incoming = join(syncDir(workspaceDir), 'incoming');
  const updater = new Updater({
    metadataDir: trustedMetadataDir(workspaceDir, enrolment),
    metadataBaseUrl: `${base}/metadata`,
    targetBaseUrl: `${base}/targets`,
    targetDir: incoming,
    fetcher: new AuthenticatedFetcher(enrolment.token, undefined, options.signal),
  });
  const imported: { id: string; name: string }[] = [];
  let unchanged = 0;
  const refused: PullResult['refused'] = [];
  try {
    await updater.refresh();
    const targetsPath = join(trustedMetadataDir(workspaceDir, enrolment), 'targets.json');
    const trusted = trustedTargetsSchema.parse(JSON.parse(readFileSync(targetsPath, 'utf8')));
    const have = new Set(models.list().map((m) => m.id));
    // App releases (`app/…`) share the repository; app-update-check.ts takes those.
    for (const name of Object.keys(trusted.signed.targets)
      .filter((n) => n.startsWith('models/'))
      .sort()) {
      // One bad target is refused on its own; the others still arrive.
      try {
        const id = await pullTarget(updater, name, trusted.signed.targets[name].custom, have, enrolment, models, incoming);
        if (id === null) unchanged++;
        else {
          imported.push(id);
          have.add(id.id);
        }
      } catch (e) {
        const r = refusal(e, enrolment);
        if (STOPS_THE_PULL.has(r.reason)) throw r;
        refused.push({ target: name, reason: r.reason, message: r.message });
      }
    }
  } catch (e) {
    throw refusal(e, enrolment);
  } finally {
    rmSync(incoming, { recursive: true, force: true });
  }
  return { imported, unchanged, refused, trust: trustState(workspaceDir, enrolment) };
}

/** Downloads, verifies, decrypts and imports one target; null when the workspace already has its model. */
async function pullTarget(
  updater: Updater,
  name: string,
  rawCustom: unknown,
  have: Set<string>,
  enrolment: DeviceEnrolment,
  models: ModelService,
  incoming: string,
): Promise<{ id: string; name: string } | null> {
  const custom = modelTargetCustomSchema.safeParse(rawCustom);
  if (!custom.success || name !== `models/${custom.data.modelId}.bundle`)
    throw new SyncRefusal('wrong-model', `refused: target ${name} does not name the model it carries`);
  if (have.has(custom.data.modelId)) return null;
  const info = await updater.getTargetInfo(name);
  if (!info) throw new SyncRefusal('unsigned', `refused: ${name} vanished from the signed targets`);
  rmSync(incoming, { recursive: true, force: true });
  mkdirSync(incoming, { recursive: true });
  const file = await updater.downloadTarget(info, join(incoming, `${custom.data.modelId}.bundle`));
  let plaintext: Buffer;
  try {
    plaintext = open(parseSealedBox(readFileSync(file)), enrolment.regionKey);
  } catch (e) {
    throw new SyncRefusal('decrypt-failed', `refused: ${name} could not be decrypted with this region's key (${(e as Error).message})`, e);
  }
  const bundle = parseBundle(plaintext);
  if (bundle.manifest.modelId !== custom.data.modelId) {
    throw new SyncRefusal(
      'wrong-model',
      `refused: ${name} is signed as model ${custom.data.modelId.slice(0, 12)} but carries the manifest of ${String(bundle.manifest.modelId).slice(0, 12)} (mix-and-match)`,
    );
  }
  // The manifest's model id was checked above, and importFrom checks it against the ONNX bytes' hash.
  const summary = importBundle(models, bundle, join(incoming, 'unpacked'));
  return { id: summary.id, name: summary.name };
}
