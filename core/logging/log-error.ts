import type { Logger } from 'pino';
import { AppraiseError, type ErrorCode } from '../common/errors.js';
import { REDACTED, REDACTED_KEYS } from './log-record.js';

/** Largest `details` kept in a log line, as JSON characters; bigger details become a marked preview. */
export const DETAILS_MAX_CHARS = 4096;
const MESSAGE_MAX_CHARS = 1000;
const STACK_MAX_CHARS = 4000;
const STRING_MAX_CHARS = 500;
const ARRAY_MAX_ITEMS = 20;
const OBJECT_MAX_KEYS = 50;
const MAX_DEPTH = 6;
const CAUSE_MAX_DEPTH = 5;

/** One link of an error's `cause` chain as logged. `code` is an Appraise code or a Node one (`ENOENT`). */
export interface LoggedCause {
  name: string;
  message: string;
  code?: string;
}

/** The `err` field of a log line. */
export interface LoggedError {
  name: string;
  code: ErrorCode;
  message: string;
  /** True when the error is a bug: code INTERNAL, which includes anything that is not an AppraiseError. */
  bug?: true;
  /** Scrubbed (REDACTED_KEYS removed at any depth) and trimmed to DETAILS_MAX_CHARS. */
  details?: unknown;
  cause?: LoggedCause[];
  /** Only for bugs: an expected error's stack says nothing the code and message do not. */
  stack?: string;
}

const redactedKeys = new Set(REDACTED_KEYS.map((k) => k.toLowerCase()));

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…(+${s.length - max} chars)`;
}

/**
 * A copy of `value` that is safe and small enough to log: REDACTED_KEYS replaced at any depth (ignoring case),
 * long strings and arrays cut with a marker, binary data replaced by its length, cycles and deep nesting cut.
 */
export function sanitizeForLog(value: unknown): unknown {
  const ancestors = new Set<object>();
  const walk = (v: unknown, depth: number): unknown => {
    if (v === null || typeof v === 'boolean' || typeof v === 'number') return v;
    if (typeof v === 'string') return clip(v, STRING_MAX_CHARS);
    if (typeof v === 'bigint') return v.toString();
    if (typeof v !== 'object') return undefined; // functions, symbols, undefined: nothing worth a log line
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? String(v) : v.toISOString();
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return `[${v.byteLength} bytes]`;
    if (ancestors.has(v)) return '[Circular]';
    if (depth >= MAX_DEPTH) return '[…]';
    ancestors.add(v);
    try {
      if (v instanceof Error) {
        const code = (v as { code?: unknown }).code;
        return { name: v.name, message: clip(v.message, MESSAGE_MAX_CHARS), ...(typeof code === 'string' ? { code } : {}) };
      }
      if (Array.isArray(v) || v instanceof Set) {
        const items = [...v];
        const kept = items.slice(0, ARRAY_MAX_ITEMS).map((x) => walk(x, depth + 1));
        if (items.length > ARRAY_MAX_ITEMS) kept.push(`…(+${items.length - ARRAY_MAX_ITEMS} more)`);
        return kept;
      }
      const entries = v instanceof Map ? [...v.entries()].map(([k, x]) => [String(k), x] as const) : Object.entries(v);
      const out: Record<string, unknown> = {};
      for (const [k, x] of entries.slice(0, OBJECT_MAX_KEYS)) {
        out[k] = redactedKeys.has(k.toLowerCase()) ? REDACTED : walk(x, depth + 1);
      }
      if (entries.length > OBJECT_MAX_KEYS) out['…'] = `+${entries.length - OBJECT_MAX_KEYS} more keys`;
      return out;
    } finally {
      ancestors.delete(v);
    }
  };
  return walk(value, 0);
}

function trimDetails(details: unknown): unknown {
  const clean = sanitizeForLog(details);
  const json = JSON.stringify(clean) ?? '';
  if (json.length <= DETAILS_MAX_CHARS) return clean;
  // Still too big after trimming each part (many keys of long strings): keep a readable prefix, marked as such.
  return { truncated: true, chars: json.length, preview: json.slice(0, DETAILS_MAX_CHARS) };
}

function causeChain(first: unknown): LoggedCause[] {
  const chain: LoggedCause[] = [];
  const seen = new Set<unknown>();
  for (let c = first; c !== undefined && c !== null && chain.length < CAUSE_MAX_DEPTH && !seen.has(c);) {
    seen.add(c);
    if (c instanceof Error) {
      const code = (c as { code?: unknown }).code;
      chain.push({ name: c.name, message: clip(c.message, MESSAGE_MAX_CHARS), ...(typeof code === 'string' ? { code } : {}) });
      c = c.cause;
    } else {
      chain.push({ name: typeof c, message: clip(String(c), MESSAGE_MAX_CHARS) });
      break;
    }
  }
  return chain;
}

/**
 * The logged form of any thrown value. An AppraiseError keeps its code, message and details; anything else is a
 * bug and is logged as INTERNAL with its stack.
 */
export function errorRecord(e: unknown): LoggedError {
  const isAppraise = e instanceof AppraiseError;
  const code: ErrorCode = isAppraise ? e.code : 'INTERNAL';
  const bug = code === 'INTERNAL';
  const message = clip(e instanceof Error ? e.message : String(e), MESSAGE_MAX_CHARS);
  const record: LoggedError = { name: e instanceof Error ? e.name : typeof e, code, message };
  if (bug) record.bug = true;
  if (isAppraise && e.details !== undefined) record.details = trimDetails(e.details);
  const cause = e instanceof Error ? causeChain(e.cause) : [];
  if (cause.length > 0) record.cause = cause;
  if (bug && e instanceof Error && e.stack) record.stack = clip(e.stack, STACK_MAX_CHARS);
  return record;
}

/** pino serializer for the `err` key, so `logger.error({ err })` is scrubbed like logError's output. */
export function errSerializer(v: unknown): unknown {
  return v instanceof Error ? errorRecord(v) : v;
}

// Errors already written, so a failure that passes through several layers is logged once (the innermost call
// that has the most context wins). Only objects can be remembered; a thrown string is logged each time.
const logged = new WeakSet<object>();

/**
 * Logs `err` once, as `{ ...context, err: LoggedError }` with the error's message as `msg` (or `message`).
 * Level: `error`, except CANCELLED (the user's choice, not a failure), which is `info`. Context is scrubbed like
 * details. Returns false (and writes nothing) when this error object was logged before.
 */
export function logError(logger: Logger, err: unknown, context: Record<string, unknown> = {}, message?: string): boolean {
  if (typeof err === 'object' && err !== null) {
    if (logged.has(err)) return false;
    logged.add(err);
  }
  const record = errorRecord(err);
  const fields = { ...(sanitizeForLog(context) as Record<string, unknown>), err: record };
  const msg = message ?? record.message;
  if (record.code === 'CANCELLED') logger.info(fields, msg);
  else logger.error(fields, msg);
  return true;
}
