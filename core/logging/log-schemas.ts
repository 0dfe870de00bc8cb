import { z } from 'zod';
import { LOG_LEVELS } from './log-record.js';

/** One line of the app's "recent problems" panel (`logs.recent`). */
export const recentErrorSchema = z.object({
  time: z.string(),
  level: z.enum(LOG_LEVELS),
  process: z.string().optional(),
  /** The error code, when the line carries one. */
  code: z.string().optional(),
  /** One line for people: what failed and why, shortened. */
  message: z.string(),
  /** The whole log record: error with cause chain, context, ids (secrets and rows already redacted). */
  details: z.record(z.string(), z.unknown()),
  jobId: z.string().optional(),
  requestId: z.string().optional(),
  syncId: z.string().optional(),
});
export type RecentError = z.output<typeof recentErrorSchema>;
