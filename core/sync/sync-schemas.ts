import { z } from 'zod';
import { errorCodeSchema } from '../common/errors.js';
import { ed25519KeySchema } from './signing-keys.js';
import { autoPromotePolicySchema } from '../config/sync-config.schema.js';

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
  'rate-limited',
]);
export type RefusalReason = z.output<typeof refusalReasonSchema>;

/**
 * The outcome of one app-update check: nothing published for this device's repository, the installed version is
 * current, or a newer release was verified through TUF and is waiting in `feedDir` for electron-updater.
 */
export const appUpdateSchema = z.object({
  state: z.enum(['not-published', 'up-to-date', 'downloaded']),
  currentVersion: z.string(),
  /** The version the signed feed offers; null when nothing is published. */
  latestVersion: z.string().nullable(),
  /** The feed file electron-updater reads on this platform (latest.yml, latest-mac.yml, latest-linux.yml). */
  feedFile: z.string(),
  /** The folder holding the verified feed and installer (state downloaded), served to electron-updater as-is. */
  feedDir: z.string().nullable(),
});
export type AppUpdate = z.output<typeof appUpdateSchema>;

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

// ── sync inside the app (SyncService, the contract's sync.status and sync.now) ─────────────────────────────────

/** The outcome of one sync cycle: pull, then the period's monitoring report into the outbox, then push. */
/** What a sync cycle decided about one pulled model under the device's automatic promotion policy. */
export const autoPromotionDecisionSchema = z.object({
  modelId: z.string(),
  name: z.string(),
  /** The champion it was compared with (before any promotion); null when there was none. */
  championId: z.string().nullable(),
  promoted: z.boolean(),
  reason: z.enum(['not-worse', 'worse', 'disabled', 'too-few-sales', 'no-champion', 'cannot-compare', 'not-challenger', 'failed']),
  /** Recent local sales both models were scored on, and their median absolute percentage errors (0.08 = 8%). */
  sales: z.number(),
  challengerMdape: z.number().nullable(),
  championMdape: z.number().nullable(),
  marginPct: z.number(),
  minSales: z.number(),
  /** The decision in words, for the Sync page and `sync now`. */
  message: z.string(),
});
export type AutoPromotionDecision = z.output<typeof autoPromotionDecisionSchema>;

export const syncCycleSchema = z.object({
  /** When the cycle started and ended (ISO). */
  at: z.string(),
  finishedAt: z.string(),
  /** Who started it: the background timer or a person (`sync.now`). */
  trigger: z.enum(['background', 'manual']),
  /** True when every step worked; a refused target alone does not fail a cycle (it is listed in `refused`). */
  ok: z.boolean(),
  /** Models this cycle imported, as challengers (never champion). */
  pulled: z.number(),
  pulledModels: z.array(z.object({ id: z.string(), name: z.string() })),
  /** Targets refused this cycle (tampered, foreign, undecryptable), each with its reason in words. */
  refused: z.array(z.object({ target: z.string(), reason: refusalReasonSchema, message: z.string() })),
  /** Reports the registry acknowledged in this cycle. */
  pushed: z.number(),
  /** Reports this cycle added to the outbox (the period's report, once per model and period). */
  queued: z.number(),
  /** What went wrong, in words a person can act on; null when ok. */
  error: z.string().nullable(),
  errorCode: errorCodeSchema.nullable(),
  /** The app-update check of this cycle (null when the app's version is not known to core, or it did not run). */
  appUpdate: appUpdateSchema.nullable().default(null),
  /** For each model pulled this cycle: promoted automatically or left waiting, with both figures and why. */
  autoPromotion: z.array(autoPromotionDecisionSchema).default([]),
});
export type SyncCycle = z.output<typeof syncCycleSchema>;

export const syncStatusSchema = z.object({
  enrolled: z.boolean(),
  /** When not enrolled: how to enrol this workspace, in words. */
  howToEnrol: z.string().nullable(),
  registryUrl: z.string().nullable(),
  region: z.string().nullable(),
  channel: z.string().nullable(),
  deviceId: z.string().nullable(),
  /** The last cycle (of this or an earlier run of the app), null before the first. */
  lastCycle: syncCycleSchema.nullable(),
  lastSuccessAt: z.string().nullable(),
  /** Reports waiting for the registry. */
  outboxDepth: z.number(),
  /** When the background cycle runs next; null when it is not running (not enrolled, or switched off). */
  nextCycleAt: z.string().nullable(),
  /** True while a cycle runs. */
  running: z.boolean(),
  /** Models that sync pulled and that are still challengers: waiting for a person to compare and promote them. */
  waitingChallengers: z.array(z.object({ id: z.string(), name: z.string(), pulledAt: z.string() })),
  /** The metadata this device trusts (versions and expiry); null when not enrolled. */
  trust: trustStateSchema.nullable(),
  /** The last app-update check that completed (verified through TUF); null before the first. */
  appUpdate: appUpdateSchema.nullable(),
});
export type SyncStatus = z.output<typeof syncStatusSchema>;

export const syncStatusInputSchema = z.strictObject({});
export type SyncStatusInput = z.output<typeof syncStatusInputSchema>;
export const syncNowInputSchema = z.strictObject({});
export type SyncNowInput = z.output<typeof syncNowInputSchema>;

/** The automatic promotion policy a sync cycle applies (`sync.promotionPolicy`), and where it comes from. */
export const promotionPolicySchema = z.object({
  enabled: z.boolean(),
  marginPct: z.number(),
  minSales: z.number(),
  /** `workspace`: set on this device; `config`: `sync.autoPromote` of the champion's YAML; `default`: off. */
  source: z.enum(['workspace', 'config', 'default']),
  configName: z.string().nullable(),
  /** The workspace setting is damaged (the cycle fails with BAD_FILE until it is saved again); in words. */
  error: z.string().nullable(),
});
export type PromotionPolicy = z.output<typeof promotionPolicySchema>;
export const promotionPolicyInputSchema = z.strictObject({});
export type PromotionPolicyInput = z.output<typeof promotionPolicyInputSchema>;
/** Enrols the workspace from the window (analyst, audited): the registry address and the admin's one-time code. */
export const syncEnrolInputSchema = z.strictObject({
  url: z.string().trim().min(1, 'type the registry address your admin gave').max(2000),
  code: z.string().trim().min(1, 'paste the enrolment code your admin gave').max(300),
  name: z.string().trim().min(1, 'name this computer, e.g. "Jordan’s laptop"').max(100),
});
export type SyncEnrolInput = z.output<typeof syncEnrolInputSchema>;
/** Sets the workspace's policy (analyst, audited); `policy: null` removes it so the YAML's (or the default) applies. */
export const setPromotionPolicyInputSchema = z.strictObject({ policy: autoPromotePolicySchema.nullable() });
export type SetPromotionPolicyInput = z.output<typeof setPromotionPolicyInputSchema>;

/** What the sync service keeps between runs of the app, in `<workspace>/sync/state.json`. */
export const syncStateSchema = z.object({
  lastCycle: syncCycleSchema.nullable(),
  lastSuccessAt: z.string().nullable(),
  /** Models sync imported (newest last, capped), so the page can say which challengers came from the registry. */
  pulledModels: z.array(z.object({ id: z.string(), name: z.string(), pulledAt: z.string() })),
  /** The last completed app-update check (kept when a later one fails, so a downloaded release stays shown). */
  appUpdate: appUpdateSchema.nullable().default(null),
});
export type SyncState = z.output<typeof syncStateSchema>;
