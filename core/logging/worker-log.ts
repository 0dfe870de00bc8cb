import { threadId } from 'node:worker_threads';
import { pino, type DestinationStream, type Logger } from 'pino';
import { lineOptions } from './line-options.js';
import { DEFAULT_LEVEL, isLogLevel, levelOf, type LogLevel } from './log-record.js';

/**
 * Worker threads log through their parent. A worker must not open the rotating file itself: two pino-roll streams
 * on one file each rotate it by their own count and delete each other's files. Instead the worker's logger formats
 * (and redacts) each line exactly as the parent's would and posts it over the port the worker already has; the
 * parent writes it to its own file unchanged. Ordering per worker is kept (one port, in order).
 */

/** What a worker posts for each log line. Routers match on `type === 'log'`. */
export interface WorkerLogMessage {
  type: 'log';
  /** One complete JSON line, newline included. */
  line: string;
}

export function isWorkerLogMessage(m: unknown): m is WorkerLogMessage {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'log' && typeof (m as { line?: unknown }).line === 'string';
}

export interface WorkerLoggerOptions {
  /** Minimum level; pass the parent's (`parentLogger.level`) through workerData. Default `info`. */
  level?: string;
  /** Fields on every line, e.g. `{ jobId }`: the parent's child bindings do not reach the worker's lines. */
  bindings?: Record<string, unknown>;
}

/**
 * A logger for a worker thread whose lines go to `post` (e.g. `(m) => parentPort.postMessage(m)`). Lines carry
 * `process: 'worker'`, the process's `pid` and the thread's `threadId`. A post that throws (port closed) drops the
 * line: logging never fails the work.
 */
export function workerLogger(post: (message: WorkerLogMessage) => void, options: WorkerLoggerOptions = {}): Logger {
  const destination: DestinationStream = {
    write(line: string) {
      try {
        post({ type: 'log', line });
      } catch {
        // The port is gone (the parent is shutting down); there is nowhere left to log.
      }
    },
  };
  const level = isLogLevel(options.level) ? options.level : DEFAULT_LEVEL;
  return pino(lineOptions(level, { process: 'worker', pid: process.pid, threadId, ...options.bindings }), destination);
}

/** Longest line accepted from a worker; a bigger one is a bug in the worker and is dropped with a warning. */
export const MAX_FORWARDED_LINE_CHARS = 64 * 1024;

/**
 * Writes a worker's line through `parent`'s destination (the same file, the same rotation), unchanged. Lines below
 * `parent`'s level are dropped, so a worker started at a lower level cannot flood the file. Something that is not
 * one JSON record is dropped and a warning with its length (never its content) is logged instead.
 * Returns true when the line was written.
 */
export function forwardWorkerLog(parent: Logger, line: string): boolean {
  let level: LogLevel | undefined;
  if (typeof line === 'string' && line.length <= MAX_FORWARDED_LINE_CHARS && line.indexOf('\n') === line.length - 1) {
    try {
      const record: unknown = JSON.parse(line);
      if (typeof record === 'object' && record !== null && !Array.isArray(record)) level = levelOf((record as { level?: unknown }).level);
    } catch {
      // handled below
    }
  }
  if (level === undefined) {
    parent.warn({ chars: typeof line === 'string' ? line.length : null }, 'a worker thread sent a log line that is not one JSON record; dropped');
    return false;
  }
  if (!parent.isLevelEnabled(level)) return false;
  (parent as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym].write(line);
  return true;
}
