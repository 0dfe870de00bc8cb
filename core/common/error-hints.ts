import { z } from 'zod';

/**
 * Remedies an error can point to without naming a shell. The message of an AppraiseError is written for the
 * terminal (it names the `appraise` command to run); a window cannot run commands, so the error also carries
 * `details.hint`, one of these keys, and the renderer shows what to click instead (renderer/src/error-hints.ts).
 * Keys are stable API, like error codes.
 */
export const errorHintSchema = z.enum([
  'no-champion', // nothing is champion: load the demo, or train and promote a model
  'unknown-model', // a model reference that matches nothing
  'unknown-dataset', // a dataset reference that matches nothing
  'no-valid-rows', // an import where every row was quarantined
  'not-enrolled', // sync asked for on a workspace not enrolled with a registry
]);
export type ErrorHint = z.output<typeof errorHintSchema>;

/** The hint of a (serialized) error's details, or null when it has none or an unknown one. */
export function hintOf(details: unknown): ErrorHint | null {
  if (typeof details !== 'object' || details === null) return null;
  const parsed = errorHintSchema.safeParse((details as { hint?: unknown }).hint);
  return parsed.success ? parsed.data : null;
}
