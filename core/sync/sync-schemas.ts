import { z } from 'zod';
import { ed25519KeySchema } from './signing-keys.js';

/** Region and channel names appear in URLs and file names: short, lower-case, no separators. */
export const regionSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'a region is 1–40 lower-case letters, digits or dashes');
export const channelSchema = z.enum(['stable', 'beta']);
export type Channel = z.output<typeof channelSchema>;

/** TUF metadata travels as its JSON form; @tufjs/models parses and verifies it. */
export const tufMetadataSchema = z
  .object({ signed: z.record(z.string(), z.unknown()), signatures: z.array(z.object({ keyid: z.string(), sig: z.string() })) })
  .passthrough();
export type TufMetadataJson = z.output<typeof tufMetadataSchema>;

export const enrolmentSchema = z.object({
  deviceId: z.string(),
  token: z.string(),
  region: regionSchema,
  channel: channelSchema,
  /** The region's X25519 key pair (raw, base64): the device decrypts bundles with it. */
  regionKey: z.object({ publicKey: z.string(), privateKey: z.string() }),
  /** The registry's X25519 public key reports are encrypted for. */
  reportPublicKey: z.string(),
  /** The repository's current root: the device's initial trust anchor. */
  root: tufMetadataSchema,
});
export type Enrolment = z.output<typeof enrolmentSchema>;

/** What a device keeps after enrolment, in `<workspace>/sync/device.json` (owner-only file mode). */
export const deviceEnrolmentSchema = z.object({
  format: z.literal('appraise-device/1'),
  registryUrl: z.url(),
  deviceId: z.string(),
  /** The device's bearer token; the registry holds only its hash. */
  token: z.string(),
  region: z.string(),
  channel: z.enum(['stable', 'beta']),
  /** The region's X25519 key pair (raw, base64) that model bundles are encrypted for. */
  regionKey: z.object({ publicKey: z.string(), privateKey: z.string() }),
  /** The registry's X25519 public key that reports are encrypted for. */
  reportPublicKey: z.string(),
  /** The device's own Ed25519 key that signs its reports. */
  deviceKey: ed25519KeySchema,
});
export type DeviceEnrolment = z.output<typeof deviceEnrolmentSchema>;

/** What a target's signed `custom` field says about the bundle: checked against the decrypted manifest. */
export const modelTargetCustomSchema = z.object({ modelId: z.string().regex(/^[0-9a-f]{64}$/), name: z.string() });

/** Why a pull refused something, in words a person can act on; the code is for programs. */
export const refusalReasonSchema = z.enum([
  'expired',
  'rollback',
  'unsigned',
  'hash-mismatch',
  'too-large',
  'decrypt-failed',
  'wrong-model',
  'bad-manifest',
  'unauthorized',
  'forbidden',
  'offline',
  'not-published',
]);
export type RefusalReason = z.output<typeof refusalReasonSchema>;

export const trustStateSchema = z.object({
  rootVersion: z.number().nullable(),
  timestampVersion: z.number().nullable(),
  snapshotVersion: z.number().nullable(),
  targetsVersion: z.number().nullable(),
  timestampExpires: z.string().nullable(),
});
export type TrustState = z.output<typeof trustStateSchema>;

export const pullResultSchema = z.object({
  /** Models imported by this pull, as challengers. */
  imported: z.array(z.object({ id: z.string(), name: z.string() })),
  /** Targets already in the workspace (nothing downloaded). */
  unchanged: z.number(),
  /** Targets refused this time (tampered, foreign, undecryptable): each with its reason; retried next pull. */
  refused: z.array(z.object({ target: z.string(), reason: refusalReasonSchema, message: z.string() })),
  trust: trustStateSchema,
});
export type PullResult = z.output<typeof pullResultSchema>;
