import { z } from 'zod';

/**
 * The consequential actions the audit trail records. Kept open (any dotted lower-case name) so a domain can add
 * one without a migration; these are the ones Appraise writes today.
 */
export const AUDIT_ACTIONS = [
  'dataset.ingest',
  'dataset.delete',
  'model.train',
  'model.promote',
  'model.rollback',
  'model.archive',
  'model.import',
  'model.export',
  'model.calibrate',
  'valuation.save',
  'valuation.delete',
  'valuation.export',
  'sync.cycle',
  'settings.change',
  'key.change',
  'audit.export',
  'monitoring.alert',
  'monitoring.alert-acknowledge',
  'monitoring.review',
  // A call the session's role does not allow (outcome refused), and the idle lock locking and unlocking.
  'api.refused',
  'session.lock',
  'session.unlock',
] as const;

export const auditActionSchema = z.string().regex(/^[a-z][a-z-]*(\.[a-z][a-z-]*)+$/, 'an audit action is a dotted lower-case name like "model.promote"');

/** ok: done; failed: tried and failed (the detail names the error code); cancelled; refused: not allowed (role). */
export const auditOutcomeSchema = z.enum(['ok', 'failed', 'cancelled', 'refused']);
export type AuditOutcome = z.output<typeof auditOutcomeSchema>;

/** The ids an action touched (dataset, model, valuation, file…), by what they are. */
export const auditIdsSchema = z.record(z.string().min(1).max(64), z.union([z.string().max(4096), z.number(), z.null()]));
export type AuditIds = z.output<typeof auditIdsSchema>;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const auditEntrySchema = z.strictObject({
  seq: z.number().int().positive(),
  at: z.string().min(1),
  actor: z.string().min(1).max(200),
  action: auditActionSchema,
  ids: auditIdsSchema,
  outcome: auditOutcomeSchema,
  /** Why an action failed or was refused (error code and a short message); null when it succeeded. */
  detail: z.string().max(500).nullable(),
  prevHash: sha256Hex,
  hash: sha256Hex,
});
export type AuditEntry = z.output<typeof auditEntrySchema>;

/** What a service hands to the trail; seq, time, actor and the hashes are the trail's to fill in. */
export interface AuditRecord {
  action: string;
  /** Undefined values are left out (an optional name that was not given). */
  ids: Record<string, string | number | null | undefined>;
  outcome: AuditOutcome;
  detail?: string | null;
}

export const auditHeadSchema = z.strictObject({ seq: z.number().int().nonnegative(), hash: sha256Hex });
export type AuditHead = z.output<typeof auditHeadSchema>;

export const auditPageSchema = z.object({ entries: z.array(auditEntrySchema), total: z.number().int().nonnegative() });
export type AuditPage = z.output<typeof auditPageSchema>;

/** One thing verification found wrong, named by the entry's sequence number. */
export const auditProblemSchema = z.object({
  seq: z.number().int().nonnegative(),
  kind: z.enum(['edited', 'removed', 'reordered', 'truncated', 'broken-link', 'bad-signature']),
  message: z.string(),
});
export type AuditProblem = z.output<typeof auditProblemSchema>;

export const auditVerificationSchema = z.object({
  ok: z.boolean(),
  entries: z.number().int().nonnegative(),
  head: auditHeadSchema.nullable(),
  problems: z.array(auditProblemSchema),
});
export type AuditVerification = z.output<typeof auditVerificationSchema>;

/** The signed export a reviewer receives (`appraise audit export`). */
export const auditExportSchema = z.strictObject({
  format: z.literal('appraise-audit-export/1', 'not an Appraise audit export (format must be "appraise-audit-export/1")'),
  exportedAt: z.string(),
  exportedBy: z.string(),
  head: auditHeadSchema.nullable(),
  entries: z.array(auditEntrySchema),
  /** Ed25519 public key (64 hex characters) of the workspace that signed this export. */
  publicKey: z.string().regex(/^[0-9a-f]{64}$/),
  /** Ed25519 signature (128 hex characters) over the canonical encoding of everything above. */
  signature: z.string().regex(/^[0-9a-f]{128}$/),
});
export type AuditExport = z.output<typeof auditExportSchema>;
