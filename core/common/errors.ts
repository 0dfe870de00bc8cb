import { z } from 'zod';

/**
 * The error kinds Appraise raises on purpose, including those only a transport raises. Anything else that
 * escapes is a bug (INTERNAL).
 *
 * Errors cross process and thread boundaries (worker threads, IPC, HTTP) in the serialized form
 * `{ name, code, message, details }` and are matched by `code`, never by message text.
 */
export const errorCodeSchema = z.enum([
  'INVALID_INPUT', // the user gave us something we cannot use; the message says what to fix
  'INVALID_CONFIG', // a YAML configuration does not validate
  'NOT_FOUND', // a dataset, model, job or API method that does not exist
  'CONFLICT', // the action contradicts the current state (e.g. deleting the champion's dataset)
  'BAD_FILE', // an input file that is not what it claims: not CSV, wrong encoding, corrupt, tampered
  'CANCELLED', // the user (or shutdown) cancelled a job
  'OFFLINE', // the network or a remote server is unreachable
  'UNAUTHORIZED', // transport: a call without the launch token
  'FORBIDDEN', // transport: a call from an untrusted frame, origin or host; or one the session's role does not allow
  'TOO_LARGE', // transport: a request body over the limit
  'LOCKED', // the workspace is encrypted and its passphrase is missing, wrong, or was dropped by the idle lock
  'RATE_LIMITED', // a server (the registry) asked this client to slow down (HTTP 429); try again later
  'INTERNAL', // a bug: should never happen
]);
export type ErrorCode = z.output<typeof errorCodeSchema>;

export const serializedErrorSchema = z.object({ name: z.string(), code: errorCodeSchema, message: z.string(), details: z.unknown().optional() });
export type SerializedError = z.output<typeof serializedErrorSchema>;

export class AppraiseError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, options?: { details?: unknown; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppraiseError';
    this.code = code;
    this.details = options?.details;
  }

  toJSON(): SerializedError {
    return { name: this.name, code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) };
  }

  /** True for errors caused by the user's input or environment rather than a bug. */
  get isUserError(): boolean {
    return this.code !== 'INTERNAL';
  }
}

export const invalidInput = (message: string, details?: unknown) => new AppraiseError('INVALID_INPUT', message, { details });
export const notFound = (message: string) => new AppraiseError('NOT_FOUND', message);
export const badFile = (message: string, details?: unknown) => new AppraiseError('BAD_FILE', message, { details });

/** Rebuilds an AppraiseError from its serialized form (after a thread, IPC or HTTP hop). */
export function deserializeError(e: unknown): AppraiseError {
  if (e instanceof AppraiseError) return e;
  const parsed = serializedErrorSchema.safeParse(e);
  if (parsed.success) return new AppraiseError(parsed.data.code, parsed.data.message, { details: parsed.data.details });
  if (e instanceof Error) return new AppraiseError('INTERNAL', e.message, { cause: e });
  return new AppraiseError('INTERNAL', String(e));
}

export function serializeError(e: unknown): SerializedError {
  if (e instanceof AppraiseError) return e.toJSON();
  const message = e instanceof Error ? e.message : String(e);
  return { name: 'AppraiseError', code: 'INTERNAL', message };
}
