import type { ErrorHint } from '../../core/common/error-hints.js';
import { ApiCallError } from './api-error.js';

/**
 * The window's wording for errors whose message is written for the terminal: what to click, not what to type.
 * Keyed by the error's `details.hint` (core/common/error-hints.ts); `satisfies` makes a new hint key without
 * window wording a compile error.
 */
const WINDOW_TEXT = {
  'no-champion': () =>
    'There is no champion model yet. On the Value screen, click “Load the demo data and model”; or train a model on the Train screen and promote it on the Models screen.',
  'unknown-model': () => 'That model is not in this workspace (any more). The Models screen lists the ones there are.',
  'unknown-dataset': () => 'That dataset is not in this workspace (any more). The Data screen lists the ones there are.',
  // The message lists the first problems, then a terminal command for the rest: keep the list, drop the command.
  'no-valid-rows': (message: string) =>
    `${message.replace(/\n?See them all with:[^\n]*$/, '')}\nFix these columns in the file (or its YAML configuration) and import it again.`,
  // Enrolment is done once, from a terminal, with a code from the registry's admin: the Sync page shows the command.
  'not-enrolled': () =>
    'This computer is not linked to your organisation’s registry yet. The Sync page shows how to enrol it with the one-time code your registry admin gives you.',
} satisfies Record<ErrorHint, (message: string) => string>;

/** The message to show in the window for an error: the window wording when it has a known hint, else its own. */
export function windowMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof ApiCallError)) return message;
  const hint = (error.details as { hint?: unknown } | undefined)?.hint;
  return typeof hint === 'string' && Object.prototype.hasOwnProperty.call(WINDOW_TEXT, hint) ? WINDOW_TEXT[hint as ErrorHint](message) : message;
}
