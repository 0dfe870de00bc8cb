import { z } from 'zod';
import { appFileNameSchema, feedFileSchema } from '../core/sync/app-release.js';
import { channelSchema, regionSchema, tufMetadataSchema } from '../core/sync/sync-schemas.js';

// Shapes a device reads too live in core/sync (the registry may import core/sync, never the other way round).
export {
  channelSchema,
  enrolmentSchema,
  regionSchema,
  tufMetadataSchema,
  type Channel,
  type Enrolment,
  type TufMetadataJson,
} from '../core/sync/sync-schemas.js';

/** Shapes of the registry's HTTP API: the one source for route validation, OpenAPI and the device's client. */

export const roleSchema = z.enum(['admin', 'publisher', 'device']);
export type Role = z.output<typeof roleSchema>;

export const errorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

export const createRepositoryBodySchema = z.object({ region: regionSchema, channel: channelSchema });
export const repositoryKeysSchema = z.object({
  region: regionSchema,
  channel: channelSchema,
  /** The region's X25519 key that bundles are encrypted for (raw, base64). */
  regionPublicKey: z.string(),
  /** The registry's online Ed25519 key (hex) that root must name for the snapshot and timestamp roles. */
  onlineKey: z.object({ keyId: z.string(), publicKey: z.string() }),
});
export type RepositoryKeys = z.output<typeof repositoryKeysSchema>;

export const createCredentialBodySchema = z.object({ role: z.enum(['admin', 'publisher']), name: z.string().min(1).max(100) });
export const credentialIssuedSchema = z.object({ id: z.string(), role: roleSchema, token: z.string() });

export const createEnrolmentCodeBodySchema = z.object({
  region: regionSchema,
  channel: channelSchema.default('stable'),
  ttlSeconds: z
    .number()
    .int()
    .min(60)
    .max(30 * 86_400)
    .default(86_400),
});
export const enrolmentCodeSchema = z.object({ code: z.string(), region: regionSchema, channel: channelSchema, expiresAt: z.string() });

export const enrolBodySchema = z.object({
  code: z.string().min(8).max(200),
  name: z.string().min(1).max(100),
  /** The device's Ed25519 public key (hex) its reports are signed with. */
  publicKey: z.string().regex(/^[0-9a-f]{64}$/, 'publicKey must be an Ed25519 public key as 64 hex characters'),
});

export const publishBodySchema = z.object({
  /** The target's file name in the repository, e.g. `models/<modelId>.bundle`. */
  targetName: z.string().regex(/^models\/[0-9a-f]{64}\.bundle$/, 'targetName must be models/<64-hex model id>.bundle'),
  /** The encrypted bundle, base64. */
  bundle: z.string().min(1),
  /** The new targets metadata, signed by the publisher's key on the analyst's machine. */
  targets: tufMetadataSchema,
});
/** An app release: the feed file (`latest*.yml`) and the files it names, each becoming target `app/<name>`. */
export const publishAppBodySchema = z.object({
  feedFile: feedFileSchema,
  files: z
    .array(z.object({ name: appFileNameSchema, bytes: z.string().min(1) }))
    .min(2, 'a release is the feed file and at least one installer')
    .max(8),
  /** The new targets metadata listing every file, signed by the publisher's key. */
  targets: tufMetadataSchema,
});
export const publishedSchema = z.object({ targetsVersion: z.number(), snapshotVersion: z.number(), timestampVersion: z.number() });

/** The repository's current root and targets, for an admin about to sign the next root (key rotation). */
export const repositoryHeadSchema = z.object({ root: tufMetadataSchema.nullable(), targets: tufMetadataSchema.nullable() });
/**
 * A key rotation in one step: the next root (signed by a threshold of the current root keys and of its own) and,
 * when root names other targets keys, the current targets one version up, unchanged but signed by the new key, so
 * no device ever sees a root whose targets it cannot verify.
 */
export const rotateBodySchema = z.object({ root: tufMetadataSchema, targets: tufMetadataSchema.nullable().default(null) });
export const rotatedSchema = z.object({
  rootVersion: z.number(),
  targetsVersion: z.number().nullable(),
  snapshotVersion: z.number().nullable(),
  timestampVersion: z.number().nullable(),
});

export const reportBodySchema = z.object({
  /** Chosen by the device; the same key twice stores the report once. */
  idempotencyKey: z.string().regex(/^[A-Za-z0-9_-]{16,100}$/, 'idempotencyKey is 16–100 letters, digits, dashes or underscores'),
  /** The report encrypted for the registry's report key: a sealed box's JSON, as a string so its bytes are signed. */
  sealedJson: z.string().min(2).max(4_000_000),
  /** Ed25519 signature (hex) by the device's key over the UTF-8 bytes of `sealedJson`. */
  signature: z.string().regex(/^[0-9a-f]{128}$/, 'signature must be an Ed25519 signature as 128 hex characters'),
});
export const reportAcceptedSchema = z.object({ id: z.string(), duplicate: z.boolean() });
export const reportSummarySchema = z.object({ id: z.string(), deviceId: z.string(), region: z.string(), idempotencyKey: z.string(), receivedAt: z.string() });
export const reportListSchema = z.object({ reports: z.array(reportSummarySchema) });
export const reportDetailSchema = reportSummarySchema.extend({ report: z.unknown() });

export const deviceSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  region: z.string().nullable(),
  channel: z.string().nullable(),
  revoked: z.boolean(),
});

/** What a webhook can be told about. */
export const webhookEventSchema = z.enum(['model.published', 'app.published', 'report.received']);
export type WebhookEvent = z.output<typeof webhookEventSchema>;
export const createWebhookBodySchema = z.object({
  /** Where the registry POSTs; https for anything off this box (the body names models and devices). */
  url: z
    .string()
    .max(2000)
    .url()
    .refine((u) => /^https?:\/\//i.test(u), 'url must be http:// or https://'),
  events: z.array(webhookEventSchema).min(1).max(3),
  description: z.string().max(200).default(''),
});
export const webhookSummarySchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(webhookEventSchema),
  description: z.string(),
  createdAt: z.string(),
  disabledAt: z.string().nullable(),
});
/** The answer to registering a webhook: the only time its signing secret is shown. */
export const webhookCreatedSchema = webhookSummarySchema.extend({ secret: z.string() });
export const webhookDeliverySchema = z.object({
  id: z.string(),
  webhookId: z.string(),
  event: webhookEventSchema,
  status: z.enum(['pending', 'delivered', 'failed', 'cancelled']),
  attempts: z.number(),
  createdAt: z.string(),
  nextAttemptAt: z.string(),
  deliveredAt: z.string().nullable(),
  lastStatus: z.number().nullable(),
  lastError: z.string().nullable(),
});
