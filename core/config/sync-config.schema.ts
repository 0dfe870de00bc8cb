import { z } from 'zod';

/**
 * The automatic promotion policy for models a device pulls from the registry (core/sync/auto-promote.ts). Off by
 * default: a model someone else trained replaces the champion only when this workspace's owner said so.
 * `minSales` and `marginPct` have no regional tuning; they are the owner's call (30 sales is roughly where a
 * median error stops jumping from one sale to the next). The one source for the YAML's `sync.autoPromote`, the
 * workspace setting and the Sync page.
 */
export const autoPromotePolicySchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** How much worse (in % of the champion's median absolute % error) the challenger may be and still replace it. */
  marginPct: z.number().min(0).max(100).default(0),
  /** The fewest recent local sales (with prices, linked to valuations) the comparison needs. */
  minSales: z.number().int().min(1).max(100_000).default(30),
});
export type AutoPromotePolicy = z.output<typeof autoPromotePolicySchema>;

/** The `sync:` section of a dataset YAML; optional, so configs without it keep their hash. */
export const syncConfigSchema = z.strictObject({
  autoPromote: autoPromotePolicySchema.optional(),
});
export type SyncConfig = z.output<typeof syncConfigSchema>;
