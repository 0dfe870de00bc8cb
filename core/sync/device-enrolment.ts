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
 * Enrols this workspace as a device with a one-time code from an admin: makes the device's Ed25519 key, sends its
 * public half, and keeps the token, the region key and the repository's root (the device's trust anchor for
 * every later pull). An already-enrolled workspace is refused (CONFLICT): re-enrolling would drop trusted state.
 */
export async function enrolDevice(workspaceDir: string, registryUrl: string, code: string, name: string): Promise<DeviceEnrolment> {
  const dir = syncDir(workspaceDir);
  if (existsSync(join(dir, 'device.json'))) throw new AppraiseError('CONFLICT', 'this workspace is already enrolled with a registry');
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
    throw new AppraiseError('OFFLINE', `cannot reach the registry at ${registryUrl}: ${(e as Error).message}`);
  }
  const body = (await response.json().catch(() => null)) as unknown;
  if (!response.ok) {
    const message = (body as { error?: { message?: string } } | null)?.error?.message ?? `HTTP ${response.status}`;
    throw new AppraiseError(
      response.status === 401 ? 'UNAUTHORIZED' : response.status === 403 ? 'FORBIDDEN' : response.status === 429 ? 'RATE_LIMITED' : 'INVALID_INPUT',
      `enrolment refused: ${message}`,
    );
  }
  const parsed = enrolmentSchema.safeParse(body);
  if (!parsed.success) throw new AppraiseError('BAD_FILE', 'the registry sent an enrolment answer this version does not understand');
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
