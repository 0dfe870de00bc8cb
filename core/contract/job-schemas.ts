import { z } from 'zod';
import { serializedErrorSchema } from '../common/errors.js';

export const jobStateSchema = z.enum(['running', 'done', 'failed', 'cancelled']);
export type JobState = z.output<typeof jobStateSchema>;

/** A job as every caller sees it; `progress` and `result` have the shapes the API contract gives its method. */
export const jobInfoSchema = z.object({
  jobId: z.string(),
  method: z.string(),
  state: jobStateSchema,
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  progress: z.unknown().nullable(),
  result: z.unknown().nullable(),
  error: serializedErrorSchema.nullable(),
});
export type JobInfo = z.output<typeof jobInfoSchema>;

export const jobStartedSchema = z.object({ jobId: z.string() });
