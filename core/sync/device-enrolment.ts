import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppraiseError } from '../common/errors.js';
import { generateEd25519Key } from './signing-keys.js';
import { deviceEnrolmentSchema, enrolmentSchema, type DeviceEnrolment } from './sync-schemas.js';

/** Where a workspace keeps its sync state: the enrolment and, per repository, tuf-js's trusted metadata. */
export const syncDir = (workspaceDir: string) => join(workspaceDir, 'sync');
export const trustedMetadataDir = (workspaceDir: string, e: Pick<DeviceEnrolment, 'region' | 'channel'>) =>
  join(syncDir(workspaceDir), 'tuf', `${e.region}-${e.channel}`);

function writeAtomic(path: string, text: string, mode: number): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/**
 * The registry address as a person typed it, checked: an http(s) URL without credentials, query or fragment; the
 * trailing slash dropped (paths are appended to it). INVALID_INPUT says what a good one looks like.
 */
export function parseRegistryUrl(text: string): string {
  const raw = text.trim();
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppraiseError(
      'INVALID_INPUT',
      `"${raw.slice(0, 100)}" is not a registry address; it looks like https://registry.example.org (ask your registry admin)`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new AppraiseError('INVALID_INPUT', `the registry address must start with https:// (or http:// on a test machine); got ${url.protocol}`);
  if (url.username || url.password || url.search || url.hash)
    throw new AppraiseError('INVALID_INPUT', 'the registry address must not hold a user name, password, ? or #; the enrolment code goes in its own field');
  return raw.replace(/\/+$/, '');
}

/** Why a request never got an answer, in words (the codes Node's fetch puts in `cause`). */
function unreachable(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (e as { name?: string }).name;
  if (code === 'ECONNREFUSED') return 'nothing answers at that address (connection refused); is the address right and the registry running?';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the name does not resolve: this computer may be offline, or the address has a typo';
  if (code === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'no answer within 30 seconds: the network may be down or very slow';
  if (code === 'ECONNRESET') return 'the connection was cut; the network may be unstable, try again';
  return cause?.message ?? (e as Error).message;
}

/**
 * Enrols this workspace as a device with a one-time code from an admin: makes the device's Ed25519 key, sends its
 * public half, and keeps the token, the region key and the repository's root (the device's trust anchor for
 * every later pull). An already-enrolled workspace is refused (CONFLICT): re-enrolling would drop trusted state.
 * Each failure says what to fix: the address (INVALID_INPUT), the network (OFFLINE), the code (UNAUTHORIZED);
 * nothing is written unless the registry accepted the code.
 */
export async function enrolDevice(workspaceDir: string, registryUrl: string, code: string, name: string): Promise<DeviceEnrolment> {
  const dir = syncDir(workspaceDir);
  if (existsSync(join(dir, 'device.json'))) throw new AppraiseError('CONFLICT', 'this workspace is already enrolled with a registry');
  registryUrl = parseRegistryUrl(registryUrl);
  code = code.trim();
  if (!/^enr_[A-Za-z0-9_-]{8,200}$/.test(code))
    throw new AppraiseError(
      'INVALID_INPUT',
      'that is not an enrolment code: codes start with enr_ followed by letters and digits; copy the whole code your admin sent',
    );
  const deviceKey = generateEd25519Key();
  let response: Response;
  try {
    response = await fetch(new URL('/enrol', registryUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code, name, publicKey: deviceKey.publicKey }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    throw new AppraiseError('OFFLINE', `cannot reach the registry at ${registryUrl}: ${unreachable(e)}. Nothing was changed.`, { cause: e });
  }
  const body = (await response.json().catch(() => null)) as unknown;
  if (!response.ok) {
    const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
    // Something answered, but not an Appraise registry (a web page, a proxy's error): the address is wrong.
    if (typeof error?.message !== 'string')
      throw new AppraiseError(
        response.status >= 500 ? 'OFFLINE' : 'INVALID_INPUT',
        `${registryUrl} answered HTTP ${response.status}, but not as an Appraise registry; check the address your admin gave`,
      );
    throw new AppraiseError(
      response.status === 401
        ? 'UNAUTHORIZED'
        : response.status === 403
          ? 'FORBIDDEN'
          : response.status === 429
            ? 'RATE_LIMITED'
            : response.status >= 500
              ? 'OFFLINE'
              : 'INVALID_INPUT',
      `the registry refused the enrolment: ${error.message}`,
    );
  }
  const parsed = enrolmentSchema.safeParse(body);
  if (!parsed.success)
    throw new AppraiseError('BAD_FILE', `${registryUrl} sent an enrolment answer this version of Appraise does not understand; is it an Appraise registry?`);
  // The schema keeps what the device stores; the root goes to the trusted-metadata folder instead.
  const clean = deviceEnrolmentSchema.parse({ format: 'appraise-device/1', registryUrl, deviceKey, ...parsed.data });
  const tufDir = trustedMetadataDir(workspaceDir, clean);
  mkdirSync(tufDir, { recursive: true });
  writeAtomic(join(tufDir, 'root.json'), JSON.stringify(parsed.data.root), 0o600);
  writeAtomic(join(dir, 'device.json'), JSON.stringify(clean, null, 2), 0o600);
  return clean;
}

/** The workspace's enrolment, or null if it has none. */
export function readEnrolment(workspaceDir: string): DeviceEnrolment | null {
  const path = join(syncDir(workspaceDir), 'device.json');
  if (!existsSync(path)) return null;
  const parsed = deviceEnrolmentSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new AppraiseError('BAD_FILE', `${path} is not a device enrolment; enrol again`);
  return parsed.data;
}
