import { open, readdir, readFile, stat, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ID_FIELDS, LEVEL_VALUES, levelOf, logFileNumber, type LogIds, type LogLevel } from './log-record.js';
import type { RecentError } from './log-schemas.js';

/**
 * Reads what logger.ts writes: `<dir>/appraise.<n>.log`, oldest (lowest n) first. Lines that are not a JSON record
 * (a line torn by a crash mid-write, a hand edit) are skipped and counted, never fatal.
 */

export interface LogEntry extends LogIds {
  /** ISO 8601, UTC. */
  time: string;
  level: LogLevel;
  process?: string;
  pid?: number;
  threadId?: number;
  msg: string;
  /** `err.code` of an error line. */
  errorCode?: string;
  /** The whole line, parsed. */
  record: Record<string, unknown>;
  /** The line as written (without its newline), for output that must be byte-for-byte the file's. */
  line: string;
}

export interface LogFilter {
  /** Minimum level. */
  level?: LogLevel;
  /** A job id, or a prefix of one. */
  jobId?: string;
  /** Entries at or after this time. */
  since?: Date;
}

export interface ReadLogsOptions extends LogFilter {
  /** Keep the last `limit` matching entries; default all. */
  limit?: number;
}

/** Where a reader stopped: hand it to `followLogs` to continue with nothing missed or repeated. */
export interface LogPosition {
  /** Null when there was no log file yet: following then starts at the beginning of the first one. */
  file: string | null;
  offset: number;
}

export interface ReadLogsResult {
  /** Oldest first. */
  entries: LogEntry[];
  /** Lines that were not a log record. */
  skipped: number;
  files: string[];
  /** End of the last complete line of the newest file. */
  end: LogPosition;
}

/** The log files in `dir`, oldest first; empty when the folder does not exist. */
export async function logFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names
    .map((name) => ({ name, n: logFileNumber(name) }))
    .filter((f): f is { name: string; n: number } => f.n !== null)
    .sort((a, b) => a.n - b.n)
    .map((f) => join(dir, f.name));
}

const RECORD_START = '{"level":';

function toEntry(record: Record<string, unknown>, line: string): LogEntry | null {
  const level = levelOf(record.level);
  const t = record.time;
  const ms = typeof t === 'number' ? t : typeof t === 'string' ? Date.parse(t) : Number.NaN;
  if (level === undefined || Number.isNaN(ms)) return null;
  const e: LogEntry = { time: new Date(ms).toISOString(), level, msg: typeof record.msg === 'string' ? record.msg : '', record, line };
  if (typeof record.process === 'string') e.process = record.process;
  if (typeof record.pid === 'number') e.pid = record.pid;
  if (typeof record.threadId === 'number') e.threadId = record.threadId;
  for (const k of ID_FIELDS) if (typeof record[k] === 'string') e[k] = record[k];
  const err = record.err as { code?: unknown } | undefined;
  if (err && typeof err.code === 'string') e.errorCode = err.code;
  return e;
}

function parseRecord(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * One line → an entry, and how many torn pieces it held. A process killed mid-write leaves a partial record, and the
 * next process appends right after it: the glued line is a torn prefix plus a whole record, which is recovered.
 */
export function parseLogLine(line: string): { entry: LogEntry | null; skipped: number } {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (text.trim() === '') return { entry: null, skipped: 0 };
  const record = parseRecord(text);
  if (record) {
    const entry = toEntry(record, text);
    return { entry, skipped: entry ? 0 : 1 };
  }
  const glued = text.lastIndexOf(RECORD_START);
  if (glued > 0) {
    const tail = parseRecord(text.slice(glued));
    const entry = tail && toEntry(tail, text.slice(glued));
    if (entry) return { entry, skipped: 1 };
  }
  return { entry: null, skipped: 1 };
}

export function matchesFilter(e: LogEntry, f: LogFilter): boolean {
  if (f.level && LEVEL_VALUES[e.level] < LEVEL_VALUES[f.level]) return false;
  if (f.jobId && !(e.jobId !== undefined && e.jobId.startsWith(f.jobId))) return false;
  if (f.since && Date.parse(e.time) < f.since.getTime()) return false;
  return true;
}

/**
 * The last `limit` entries matching the filter, across the current and the rotated files, oldest first. Memory
 * stays bounded by `limit`, not by the size of the logs. Entries are ordered by time: several processes append to
 * the same files and may rotate at slightly different moments.
 */
export async function readLogs(dir: string, options: ReadLogsOptions = {}): Promise<ReadLogsResult> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const files = await logFiles(dir);
  let kept: LogEntry[] = [];
  let skipped = 0;
  let end: LogPosition = { file: null, offset: 0 };
  for (const [i, file] of files.entries()) {
    let buf: Buffer;
    try {
      buf = await readFile(file);
    } catch (e) {
      // Pruned by a rotating writer between the listing and now: its entries are older than the limit anyway.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    const lastNewline = buf.lastIndexOf(0x0a);
    const complete = lastNewline < 0 ? '' : buf.subarray(0, lastNewline).toString('utf8');
    const lines = complete === '' && lastNewline < 0 ? [] : complete.split('\n');
    const tail = buf.subarray(lastNewline + 1).toString('utf8');
    // An unterminated tail is either torn (the writer died) or being written right now; `end` stays before it so
    // that a follower picks it up if it completes.
    if (tail.trim() !== '') lines.push(tail);
    for (const line of lines) {
      const r = parseLogLine(line);
      skipped += r.skipped;
      if (r.entry && matchesFilter(r.entry, options)) {
        kept.push(r.entry);
        if (kept.length >= 2 * limit + 1024) kept = kept.slice(kept.length - limit);
      }
    }
    if (i === files.length - 1) end = { file, offset: lastNewline + 1 };
  }
  kept = stableSortByTime(kept);
  return { entries: Number.isFinite(limit) ? kept.slice(Math.max(0, kept.length - limit)) : kept, skipped, files, end };
}

function stableSortByTime(entries: LogEntry[]): LogEntry[] {
  // Array.prototype.sort is stable, so lines written in the same millisecond keep their file order.
  return entries.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
}

export interface FollowOptions extends LogFilter {
  /** Stops following; the generator then returns. */
  signal: AbortSignal;
  /** Where to start (`readLogs(...).end`); default the end of the current file, i.e. lines written from now on. */
  from?: LogPosition;
  /** How often to look for new lines; default 250 ms. Polling works the same on every platform and file system. */
  pollMs?: number;
  /** Told how many lines were skipped as torn or invalid, each time some are. */
  onSkipped?: (count: number) => void;
}

const MAX_PENDING_BYTES = 1024 * 1024;

interface Tail {
  file: string;
  handle: FileHandle;
  ino: bigint;
  offset: number;
  pending: Buffer;
}

/**
 * New entries as they are written, until `signal` aborts. Follows rotation: when a newer file appears (pino-roll
 * starts `appraise.<n+1>.log`) or the followed path is replaced or truncated, it reads what is left of the old
 * file through its open handle and continues with the new file from its start.
 */
export async function* followLogs(dir: string, options: FollowOptions): AsyncGenerator<LogEntry> {
  const { signal } = options;
  const pollMs = options.pollMs ?? 250;
  let tail: Tail | null = null;
  const openTail = async (file: string, offset: number | 'end'): Promise<Tail | null> => {
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    const st = await handle.stat({ bigint: true });
    return { file, handle, ino: st.ino, offset: offset === 'end' ? Number(st.size) : Math.min(offset, Number(st.size)), pending: Buffer.alloc(0) };
  };
  // Complete lines appended since the last read (the fd still reads a renamed or deleted file).
  const drain = async function* (t: Tail): AsyncGenerator<LogEntry> {
    const chunk = Buffer.alloc(64 * 1024);
    for (;;) {
      const { bytesRead } = await t.handle.read(chunk, 0, chunk.length, t.offset);
      if (bytesRead === 0) return;
      t.offset += bytesRead;
      let data = Buffer.concat([t.pending, chunk.subarray(0, bytesRead)]);
      let nl: number;
      let skipped = 0;
      while ((nl = data.indexOf(0x0a)) >= 0) {
        const r = parseLogLine(data.subarray(0, nl).toString('utf8'));
        data = data.subarray(nl + 1);
        skipped += r.skipped;
        if (r.entry && matchesFilter(r.entry, options)) yield r.entry;
      }
      t.pending = Buffer.from(data);
      if (t.pending.length > MAX_PENDING_BYTES) {
        // No log line is this long (pino writes a line at once): whatever this is, do not hold it in memory.
        t.pending = Buffer.alloc(0);
        skipped++;
      }
      if (skipped > 0) options.onSkipped?.(skipped);
    }
  };
  const closeTail = async (t: Tail) => {
    if (t.pending.toString('utf8').trim() !== '') options.onSkipped?.(1); // an unterminated line left behind: torn
    await t.handle.close().catch(() => undefined);
  };

  const numberOf = (file: string) => logFileNumber(basename(file)) ?? -1;
  // The highest file number followed so far: a file that reappears with a lower number is not read again.
  let followed = -1;
  const switchTo = async (file: string, offset: number | 'end'): Promise<Tail | null> => {
    const t = await openTail(file, offset);
    if (t) followed = Math.max(followed, numberOf(file));
    return t;
  };

  try {
    if (options.from) {
      const { file, offset } = options.from;
      if (file) tail = await switchTo(file, offset);
      // Gone (pruned) since it was read: continue with the file after it.
      if (!tail && file) followed = numberOf(file) - 1;
    } else {
      const newest = (await logFiles(dir)).at(-1);
      if (newest) tail = await switchTo(newest, 'end');
    }
    while (!signal.aborted) {
      const current = tail;
      if (current) yield* drain(current);
      const files = await logFiles(dir);
      if (current) {
        const st = await stat(current.file, { bigint: true }).catch(() => null);
        const replaced = !st || st.ino !== current.ino;
        // The next file, not the newest: two rotations between polls must not skip the file in between.
        const newer = files.find((f) => numberOf(f) > numberOf(current.file));
        if (!replaced && Number(st.size) < current.offset) {
          current.offset = 0; // truncated in place: read it again from the start
          current.pending = Buffer.alloc(0);
          continue;
        }
        if (replaced || newer) {
          yield* drain(current); // what was written between the last read and the rotation
          await closeTail(current);
          tail = null;
          // pino-roll's rotation starts a higher-numbered file; a rename-style one puts a new file at the same path.
          if (newer) tail = await switchTo(newer, 0);
          else if (st) tail = await switchTo(current.file, 0);
          continue;
        }
      } else {
        const next = files.find((f) => numberOf(f) > followed);
        if (next) {
          tail = await switchTo(next, 0);
          continue;
        }
      }
      try {
        await sleep(pollMs, undefined, { signal });
      } catch {
        break; // aborted
      }
    }
  } finally {
    if (tail) await closeTail(tail);
  }
}

export type { RecentError };

const SHORT_MESSAGE_CHARS = 200;

/** The last `n` entries at level error or above, newest first. */
export async function recentErrors(dir: string, n = 20): Promise<RecentError[]> {
  const { entries } = await readLogs(dir, { level: 'error', limit: n });
  return entries.reverse().map((e) => {
    // "job failed" alone says nothing to a person: the error's own message says what to fix.
    const err = e.record.err as { message?: unknown } | undefined;
    const what = typeof err?.message === 'string' && err.message ? `${e.msg}: ${err.message}` : e.msg;
    const oneLine = what.replace(/\s+/g, ' ').trim();
    const r: RecentError = {
      time: e.time,
      level: e.level,
      message: oneLine.length > SHORT_MESSAGE_CHARS ? `${oneLine.slice(0, SHORT_MESSAGE_CHARS - 1)}…` : oneLine,
      details: e.record,
    };
    if (e.process) r.process = e.process;
    if (e.errorCode) r.code = e.errorCode;
    for (const k of ID_FIELDS) if (e[k] !== undefined) r[k] = e[k];
    return r;
  });
}
