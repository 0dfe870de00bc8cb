import { z } from 'zod';

/** The API session's idle lock (core/api/session-lock.ts): whether calls are refused until the passphrase is given. */
export const sessionStatusSchema = z.object({
  locked: z.boolean(),
  lockedAt: z.string().nullable(),
  /** Idle time after which the session locks; null when this host has no idle lock. */
  idleTimeoutMs: z.number().int().positive().nullable(),
});
export type SessionStatus = z.output<typeof sessionStatusSchema>;

export const sessionUnlockInputSchema = z.strictObject({ passphrase: z.string().min(1).max(1024) });
