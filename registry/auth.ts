import { createHash, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppraiseError } from '../core/common/errors.js';
import type { Role } from './registry-schemas.js';
import type { Credential, RegistryStore } from './registry-store.js';

/**
 * Tokens and enrolment codes carry 256 bits of randomness, so one unsalted sha256 is enough to store them: a
 * leaked database gives nothing to replay, and there is no dictionary to try.
 */
export const newToken = (kind: 'apt' | 'enr'): string => `${kind}_${randomBytes(32).toString('base64url')}`;
export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** The bearer token of a request, or null. */
export function bearer(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (typeof h !== 'string' || !h.startsWith('Bearer ')) return null;
  const token = h.slice(7).trim();
  return token.length > 0 && token.length <= 200 ? token : null;
}

/**
 * Authenticates a request and checks its role: UNAUTHORIZED (401) for a missing, unknown or revoked token,
 * FORBIDDEN (403) for a real credential of the wrong role. Nothing about the data is said in either answer.
 */
export async function authorize(store: RegistryStore, req: FastifyRequest, roles: readonly Role[]): Promise<Credential> {
  const token = bearer(req);
  if (!token) throw new AppraiseError('UNAUTHORIZED', 'this call needs a registry token (Authorization: Bearer …)');
  const credential = await store.credentialByTokenHash(hashSecret(token));
  if (!credential) throw new AppraiseError('UNAUTHORIZED', 'the registry token is not valid');
  if (credential.revoked) throw new AppraiseError('UNAUTHORIZED', 'the registry token was revoked; enrol the device again');
  if (!roles.includes(credential.role)) throw new AppraiseError('FORBIDDEN', `this call is for ${roles.join(' or ')} credentials, not ${credential.role}`);
  return credential;
}

/** A device may only touch its own region's repositories; admins and publishers may touch any. */
export function checkRegion(credential: Credential, region: string, channel: string): void {
  if (credential.role !== 'device') return;
  if (credential.region !== region || credential.channel !== channel) {
    throw new AppraiseError('FORBIDDEN', `this device is enrolled for ${credential.region}/${credential.channel}, not ${region}/${channel}`);
  }
}
