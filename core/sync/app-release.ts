import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { AppraiseError } from '../common/errors.js';

/**
 * An app release as the registry carries it: electron-updater's generic-provider feed file (`latest.yml`,
 * `latest-mac.yml`, `latest-linux.yml`) and the files it names, each a TUF target under `app/`. The same rules are
 * checked by the registry when a release is published and by the device before anything is handed to
 * electron-updater.
 */
export const APP_TARGET_PREFIX = 'app/';

export const feedFileSchema = z
  .string()
  .regex(/^latest(-[a-z0-9]+)?\.yml$/, 'the feed file is latest.yml, latest-mac.yml or latest-linux.yml (electron-builder names them so)');

/** Release files become URL paths and file names on the device: one plain name, no folders or spaces. */
export const appFileNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/, 'a release file name is letters, digits, dots, dashes or underscores (no folders or spaces)');

const versionPattern = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/;

/** What electron-builder writes into `latest*.yml`; unknown fields are kept (electron-updater reads them). */
export const latestYmlSchema = z
  .object({
    version: z.string().regex(versionPattern, 'version must look like 1.2.3 or 1.2.3-beta.1'),
    files: z
      .array(z.object({ url: appFileNameSchema, sha512: z.string().min(1), size: z.number().int().nonnegative().optional() }).passthrough())
      .min(1, 'the feed lists no files'),
    path: z.string().optional(),
    sha512: z.string().optional(),
    releaseDate: z.string().optional(),
  })
  .passthrough();
export type LatestYml = z.output<typeof latestYmlSchema>;

/** Custom data signed into each app target, so a device knows which release a file belongs to. */
export const appTargetCustomSchema = z.object({ kind: z.literal('app'), version: z.string() });

/** Parses a feed file; BAD_FILE naming the first problem. */
export function parseLatestYml(bytes: Uint8Array, name: string): LatestYml {
  let raw: unknown;
  try {
    raw = parseYaml(Buffer.from(bytes).toString('utf8'), { maxAliasCount: 0 });
  } catch (e) {
    throw new AppraiseError('BAD_FILE', `${name} is not valid YAML: ${(e as Error).message}`);
  }
  const parsed = latestYmlSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new AppraiseError('BAD_FILE', `${name} is not an electron-updater feed: ${i.path.join('.') || '(file)'}: ${i.message}`);
  }
  return parsed.data;
}

/** electron-updater's own hash form: sha512, base64. */
export const sha512Base64 = (bytes: Uint8Array) => createHash('sha512').update(bytes).digest('base64');

/** Semantic-version order (numbers, then a pre-release sorts before its release); 0 when equal. */
export function compareVersions(a: string, b: string): number {
  const pa = versionPattern.exec(a);
  const pb = versionPattern.exec(b);
  if (!pa || !pb) throw new AppraiseError('INVALID_INPUT', `not a version: ${pa ? b : a}`);
  for (let i = 1; i <= 3; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0) return Math.sign(d);
  }
  if (pa[4] === pb[4]) return 0;
  if (pa[4] === undefined) return 1;
  if (pb[4] === undefined) return -1;
  const xa = pa[4].split('.');
  const xb = pb[4].split('.');
  for (let i = 0; i < Math.max(xa.length, xb.length); i++) {
    if (xa[i] === undefined) return -1;
    if (xb[i] === undefined) return 1;
    const na = /^\d+$/.test(xa[i]) ? Number(xa[i]) : NaN;
    const nb = /^\d+$/.test(xb[i]) ? Number(xb[i]) : NaN;
    const d = !Number.isNaN(na) && !Number.isNaN(nb) ? na - nb : xa[i] < xb[i] ? -1 : xa[i] > xb[i] ? 1 : 0;
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/**
 * Checks that a release is whole: every file the feed names is among `files` with the feed's sha512 (and size,
 * when given). Throws BAD_FILE naming the file otherwise; returns the files the feed does not name.
 */
export function checkReleaseFiles(feed: LatestYml, feedName: string, files: ReadonlyMap<string, Uint8Array>): string[] {
  const named = new Set<string>();
  for (const f of feed.files) {
    const bytes = files.get(f.url);
    if (!bytes) throw new AppraiseError('BAD_FILE', `${feedName} names ${f.url}, which is not part of the release`);
    if (sha512Base64(bytes) !== f.sha512) throw new AppraiseError('BAD_FILE', `${f.url} does not match the sha512 ${feedName} gives for it`);
    if (f.size !== undefined && f.size !== bytes.length) throw new AppraiseError('BAD_FILE', `${f.url} is ${bytes.length} bytes; ${feedName} says ${f.size}`);
    named.add(f.url);
  }
  return [...files.keys()].filter((n) => !named.has(n));
}
