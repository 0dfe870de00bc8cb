import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Updater } from 'tuf-js';
import type { TargetFile } from '@tufjs/models';
import { APP_TARGET_PREFIX, appTargetCustomSchema, compareVersions, parseLatestYml, sha512Base64 } from './app-release.js';
import { syncDir, trustedMetadataDir } from './device-enrolment.js';
import { refusal, SyncRefusal } from './model-puller.js';
import { AuthenticatedFetcher } from './registry-fetcher.js';
import type { AppUpdate, DeviceEnrolment } from './sync-schemas.js';

const KEEPS = 'The installed app stays as it is.';

/** electron-builder's feed file for each platform electron-updater runs on. */
export function feedFileFor(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return 'latest-mac.yml';
  if (platform === 'linux') return 'latest-linux.yml';
  return 'latest.yml';
}

/** Where verified releases wait, one folder per version: `<workspace>/sync/app-update/<version>/`. */
export const appUpdateDir = (workspaceDir: string) => join(syncDir(workspaceDir), 'app-update');

/**
 * Checks the device's repository for a newer app release, through TUF: tuf-js refreshes the metadata (rollback,
 * freeze, wrong signatures refused exactly as for models, with the same persisted trust), then the feed file
 * (`app/latest*.yml`) and every file it names are downloaded as signed targets (length-bounded, sha256-checked),
 * and each file is checked against the feed's sha512 too. Only a release that passes all of it lands, whole, in
 * `appUpdateDir/<version>/`, which the Electron adapter serves to electron-updater (whose own sha512 check stays
 * as a second one). Anything that does not verify raises a `SyncRefusal` and leaves the previous state alone.
 */
export async function checkAppUpdate(
  workspaceDir: string,
  enrolment: DeviceEnrolment,
  options: { currentVersion: string; feedFile?: string; signal?: AbortSignal },
): Promise<AppUpdate> {
  const feedFile = options.feedFile ?? feedFileFor(process.platform);
  const base = `${enrolment.registryUrl}/repos/${enrolment.region}/${enrolment.channel}`;
  const root = appUpdateDir(workspaceDir);
  const incoming = join(root, 'incoming');
  const updater = new Updater({
    metadataDir: trustedMetadataDir(workspaceDir, enrolment),
    metadataBaseUrl: `${base}/metadata`,
    targetBaseUrl: `${base}/targets`,
    targetDir: incoming,
    fetcher: new AuthenticatedFetcher(enrolment.token, 120_000, options.signal),
  });
  const result = (state: AppUpdate['state'], latestVersion: string | null, feedDir: string | null): AppUpdate => ({
    state,
    currentVersion: options.currentVersion,
    latestVersion,
    feedFile,
    feedDir,
  });
  let refreshed = false;
  try {
    await updater.refresh();
    refreshed = true;
    const feedInfo = await updater.getTargetInfo(`${APP_TARGET_PREFIX}${feedFile}`);
    if (!feedInfo) return result('not-published', null, null);
    rmSync(incoming, { recursive: true, force: true });
    mkdirSync(incoming, { recursive: true });
    const feedBytes = readFileSync(await updater.downloadTarget(feedInfo, join(incoming, feedFile)));
    const feed = parseLatestYml(feedBytes, feedFile);
    signedAs(feedInfo, feed.version);
    if (compareVersions(feed.version, options.currentVersion) <= 0) return result('up-to-date', feed.version, null);

    const dest = join(root, feed.version);
    const infos: { info: TargetFile; url: string; sha512: string }[] = [];
    for (const f of feed.files) {
      const info = await updater.getTargetInfo(`${APP_TARGET_PREFIX}${f.url}`);
      if (!info) throw new SyncRefusal('unsigned', `refused: ${feedFile} names ${f.url}, which is not among the signed targets. ${KEEPS}`);
      signedAs(info, feed.version);
      infos.push({ info, url: f.url, sha512: f.sha512 });
    }
    // Already verified on an earlier check: tuf-js re-hashes what is there against the signed targets.
    const cached = existsSync(dest) && (await updater.findCachedTarget(feedInfo, join(dest, feedFile))) !== undefined;
    if (cached && (await Promise.all(infos.map((i) => updater.findCachedTarget(i.info, join(dest, i.url))))).every((p) => p !== undefined)) {
      return result('downloaded', feed.version, dest);
    }
    for (const i of infos) {
      const bytes = readFileSync(await updater.downloadTarget(i.info, join(incoming, i.url)));
      if (sha512Base64(bytes) !== i.sha512)
        throw new SyncRefusal('hash-mismatch', `refused: ${i.url} does not match the sha512 the signed ${feedFile} gives for it. ${KEEPS}`);
    }
    // Whole or not at all: the folder electron-updater reads appears by one rename.
    rmSync(dest, { recursive: true, force: true });
    renameSync(incoming, dest);
    for (const old of readdirSync(root)) if (old !== feed.version) rmSync(join(root, old), { recursive: true, force: true });
    return result('downloaded', feed.version, dest);
  } catch (e) {
    const known = refusal(e, enrolment, KEEPS);
    const r = known.message.includes(KEEPS) ? known : new SyncRefusal(known.reason, `${known.message} ${KEEPS}`, known.cause);
    // An empty repository has no timestamp yet: that is "nothing published", not a fault. A signed file missing
    // later is a fault.
    if (r.reason === 'not-published' && !refreshed) return result('not-published', null, null);
    throw r;
  } finally {
    rmSync(incoming, { recursive: true, force: true });
  }
}

/** A release file is signed with the version it belongs to, so a feed cannot be paired with another release's files. */
function signedAs(info: TargetFile, version: string): void {
  const custom = appTargetCustomSchema.safeParse(info.custom);
  if (!custom.success || custom.data.version !== version)
    throw new SyncRefusal(
      'wrong-model',
      `refused: ${info.path} is signed as part of release ${custom.success ? custom.data.version : '(none)'}, not ${version} (mix-and-match). ${KEEPS}`,
    );
}
