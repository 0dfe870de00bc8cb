import type { LoggerOptions } from 'pino';
import { errSerializer } from './log-error.js';
import { isoTime, redactPaths, REDACTED, type LogLevel } from './log-record.js';

/**
 * pino settings shared by the file writer (logger.ts) and worker threads (worker-log.ts), so a forwarded line looks
 * exactly like a local one. Its own file so that a worker thread does not load pino-roll (and its date library,
 * ~70 ms measured) only to format lines it posts to its parent.
 */
export function lineOptions(level: LogLevel | 'silent', base: Record<string, unknown>): LoggerOptions {
  return {
    level,
    base,
    timestamp: isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: errSerializer },
    redact: { paths: redactPaths(), censor: REDACTED },
  };
}
