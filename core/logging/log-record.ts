import { join } from 'node:path';

/**
 * What one log line is, shared by the writer (logger.ts), worker threads (worker-log.ts) and the reader
 * (log-reader.ts). A line is one JSON object:
 *
 *   {"level":"info","time":"2026-05-01T14:30:02.123Z","process":"cli","pid":4711,"jobId":"…","msg":"…"}
 *
 * `level` is pino's label (not its number) and `time` is ISO 8601 in UTC, so the file reads well with `jq` or a
 * text editor. This file has no runtime dependency on pino: `appraise logs` reads logs without loading the writer.
 */

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** pino's numeric values; lines written by another pino setup may carry these instead of labels. */
export const LEVEL_VALUES: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

export const DEFAULT_LEVEL: LogLevel = 'info';

export function isLogLevel(s: unknown): s is LogLevel {
  return typeof s === 'string' && (LOG_LEVELS as readonly string[]).includes(s);
}

/** The label for a level field as found in a line (label or pino number); undefined when it is neither. */
export function levelOf(v: unknown): LogLevel | undefined {
  if (isLogLevel(v)) return v;
  if (typeof v === 'number') return LOG_LEVELS.find((l) => LEVEL_VALUES[l] === v);
  return undefined;
}

/** Which kind of process wrote a line: the `process` field of every line. */
export type ProcessName = 'cli' | 'web' | 'core-host' | 'worker';
/** Processes that own the log file; worker threads forward their lines to one of these (worker-log.ts). */
export type HostProcessName = Exclude<ProcessName, 'worker'>;

/** Ids that child loggers bind (`logger.child({ jobId })`); `appraise logs --job` filters on `jobId`. */
export interface LogIds {
  jobId?: string;
  requestId?: string;
  syncId?: string;
}
export const ID_FIELDS = ['jobId', 'requestId', 'syncId'] as const satisfies readonly (keyof LogIds)[];

/**
 * Keys whose values never reach a log file, at any depth inside `logError` details and context, and at the top
 * level and up to two levels down in anything else passed to a logger (pino `redact`, which needs explicit paths).
 * Credentials, and whole input rows: a sale record is someone's property and price, and a quarantined line is the
 * user's data verbatim. Matching is by exact key name; in logError's scrub it ignores case.
 */
export const REDACTED_KEYS = [
  'token',
  'accessToken',
  'refreshToken',
  'password',
  'secret',
  'authorization',
  'cookie',
  'key',
  'apiKey',
  'privateKey',
  'passphrase',
  'input',
  'raw',
  'row',
  'rows',
] as const;

export const REDACTED = '[Redacted]';

/** pino `redact` paths for REDACTED_KEYS: `k`, `*.k`, `*.*.k`. */
export function redactPaths(): string[] {
  return REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
}

/** The workspace's log folder. */
export const LOGS_FOLDER = 'logs';
export function logsDir(workspaceDir: string): string {
  return join(workspaceDir, LOGS_FOLDER);
}

/**
 * The name handed to pino-roll. pino-roll always numbers its files (`appraise.1.log`, `appraise.2.log`, …; the
 * highest number is the one being written), so no file is literally called `appraise.log`.
 */
export const LOG_FILE = 'appraise.log';
const LOG_FILE_NAME = /^appraise\.(\d+)\.log$/;

/** The rotation number of a log file name, or null for any other file. */
export function logFileNumber(name: string): number | null {
  const m = LOG_FILE_NAME.exec(name);
  return m ? Number(m[1]) : null;
}

/** pino's isoTime, spelled out so this file does not load pino. */
export function isoTime(): string {
  return `,"time":"${new Date().toISOString()}"`;
}
