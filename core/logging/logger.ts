import { accessSync, constants, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { pino, type DestinationStream, type Logger } from 'pino';
import pinoRoll, { type RollingStream } from 'pino-roll';
import { lineOptions } from './line-options.js';
import { DEFAULT_LEVEL, LOG_FILE, isLogLevel, type HostProcessName, type LogLevel } from './log-record.js';

/** One file rotates at 5 MiB; at most 5 files are kept (the current one and 4 older): ≤ 25 MiB of logs. */
export const DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024;
export const DEFAULT_MAX_FILES = 5;

export interface OpenLoggerOptions {
  /** The logs folder, normally `logsDir(workspaceDir)`; created if missing. */
  dir: string;
  /** Written as `process` on every line. */
  processName: HostProcessName;
  /** Minimum level; default `info`. An unknown name falls back to `info` and is reported through `onError`. */
  level?: string;
  /** Size at which the current file rotates; default 5 MiB. A file can run past it by what one event-loop turn writes. */
  maxFileBytes?: number;
  /** Files kept, the current one included; default 5, at least 2. Older files are deleted at rotation. */
  maxFiles?: number;
  /** Extra fields on every line (e.g. `{ version }`). */
  bindings?: Record<string, unknown>;
  /**
   * Told when logging fails (folder not writable, disk full) or is misconfigured; on failure logging goes silent and
   * the process carries on. Called at most once per cause. Default: one line on stderr. Loggers sharing a folder
   * (see LogSink) report write failures through the first one's handler.
   */
  onError?: (error: Error) => void;
}

/**
 * A process's logger and the file it owns. Hand `logger` (or `logger.child({ jobId })`) to whatever logs; only the
 * composition root that opened it calls `close()`. Lines are on disk when the log call returns; `close()` closes
 * the file (the last logger open on a folder closes it), and calling it again does nothing.
 */
export interface ProcessLogger {
  readonly logger: Logger;
  /** The logs folder being written, or null for a silent logger. */
  readonly dir: string | null;
  close(): Promise<void>;
}

const nowhere: DestinationStream = { write: () => undefined };

/** A logger that writes nothing: for tests, and what openLogger falls back to when it cannot write. */
export function silentLogger(): ProcessLogger {
  return { logger: pino(lineOptions('silent', {}), nowhere), dir: null, close: async () => undefined };
}

const toStderr = (e: Error) => process.stderr.write(`appraise: ${e.message}\n`);

/**
 * The one writer of a logs folder in this thread. Loggers opened on the same folder share it (reference-counted),
 * because two pino-roll streams on one file would each rotate it by their own byte count.
 */
class LogSink implements DestinationStream {
  private refs = 1;
  private failed = false;
  private readonly reported = new Set<string>();
  constructor(
    private readonly stream: RollingStream,
    private readonly onError: (error: Error) => void,
  ) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      // Deleting an old rotated file can fail (Windows, permissions) without harming the current one.
      if (e.syscall !== 'unlink') this.failed = true;
      this.report(new Error(`${this.failed ? 'stopped logging' : 'could not delete an old log file'}: ${e.message}`, { cause: e }));
    });
  }

  report(e: Error): void {
    const cause = (e.cause as NodeJS.ErrnoException | undefined)?.code ?? e.message;
    if (this.reported.has(cause)) return;
    this.reported.add(cause);
    try {
      this.onError(e);
    } catch {
      // A failing error reporter must not take the process down either.
    }
  }

  write(line: string): void {
    if (this.failed) return;
    try {
      this.stream.write(line);
    } catch (e) {
      this.failed = true;
      this.report(new Error(`stopped logging: ${(e as Error).message}`, { cause: e }));
    }
  }

  retain(): void {
    this.refs++;
  }

  /** Drops one user; true when it was the last, and the caller must then `end()` the sink. */
  release(): boolean {
    return --this.refs === 0;
  }

  /** Closes the file (writes are synchronous, so nothing is buffered). */
  async end(): Promise<void> {
    if (this.stream.destroyed) return;
    await new Promise<void>((done) => {
      // Never let shutdown hang on a stuck disk.
      const timer = setTimeout(done, 5000);
      timer.unref();
      const finish = () => {
        clearTimeout(timer);
        done();
      };
      this.stream.once('close', finish);
      this.stream.once('error', finish);
      try {
        this.stream.end();
      } catch {
        finish();
      }
    });
  }
}

const sinks = new Map<string, Promise<LogSink>>();

async function openSink(dir: string, o: OpenLoggerOptions, onError: (e: Error) => void): Promise<LogSink> {
  const maxFiles = Math.max(2, Math.floor(o.maxFiles ?? DEFAULT_MAX_FILES));
  const maxFileBytes = Math.max(1024, o.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES);
  // Fail here, synchronously and with a clear error, rather than later inside the stream.
  mkdirSync(dir, { recursive: true });
  accessSync(dir, constants.W_OK);
  const stream = await pinoRoll({
    file: join(dir, LOG_FILE),
    size: maxFileBytes / (1024 * 1024), // pino-roll reads a number as MB
    // pino-roll documents `count` as the files kept besides the current one, but it prunes by listing the folder
    // once the new file exists (with synchronous writes), so `count` is the total (checked in logger.test.ts).
    // removeOtherLogFiles: the CLI, the web host and the app are separate processes, and without it each would
    // only ever prune the files it created itself.
    limit: { count: maxFiles, removeOtherLogFiles: true },
    mkdir: true,
    // Synchronous writes (~20 µs a line, formatting and redaction included, measured), for two reasons. A
    // process that exits right after logging (the CLI, a host calling process.exit()) loses nothing. And
    // pino-roll rotates on the stream's 'drain', which an asynchronous stream never emits while lines keep
    // arriving faster than the disk takes them (measured: 300 lines one event-loop turn apart grew one file to
    // 34x its cap); a synchronous one drains after every turn of the event loop.
    sync: true,
  });
  return new LogSink(stream, onError);
}

/**
 * Opens the process's logger on `<dir>/appraise.<n>.log`, rotating by size (pino-roll, in this thread, no transport
 * thread). Never throws: when the folder cannot be written it reports through `onError` and returns a silent logger.
 * Worker threads must not call this (they get a silent logger); they use `workerLogger` from worker-log.ts.
 */
export async function openLogger(o: OpenLoggerOptions): Promise<ProcessLogger> {
  const onError = o.onError ?? toStderr;
  let level: LogLevel = DEFAULT_LEVEL;
  if (o.level !== undefined && o.level !== '') {
    if (isLogLevel(o.level)) level = o.level;
    else onError(new Error(`unknown log level "${o.level}" (use trace, debug, info, warn, error or fatal); logging at ${DEFAULT_LEVEL}`));
  }
  if (!isMainThread) {
    onError(new Error('openLogger was called in a worker thread; a worker forwards its lines to its parent with workerLogger()'));
    return silentLogger();
  }
  const dir = resolve(o.dir);
  let pending = sinks.get(dir);
  let sink: LogSink;
  try {
    if (pending) {
      sink = await pending;
      sink.retain();
    } else {
      pending = openSink(dir, o, onError);
      sinks.set(dir, pending);
      sink = await pending;
    }
  } catch (e) {
    if (sinks.get(dir) === pending) sinks.delete(dir);
    onError(new Error(`cannot write the log in ${dir} (${(e as Error).message}); carrying on without it`, { cause: e }));
    return silentLogger();
  }
  const logger = pino(lineOptions(level, { process: o.processName, pid: process.pid, ...o.bindings }), sink);
  let closed: Promise<void> | null = null;
  return {
    logger,
    dir,
    close: () =>
      (closed ??= (async () => {
        if (!sink.release()) return;
        // Forget the sink before ending it, so a logger opened meanwhile gets a fresh stream, not a closing one.
        if (sinks.get(dir) === pending) sinks.delete(dir);
        await sink.end();
      })()),
  };
}
