import type { Command } from 'commander';
import { globals, cancelOnCtrlC } from './context.js';
import { invalidInput } from '../../core/common/errors.js';
import { resolveWorkspaceDir } from '../../core/workspace/workspace.js';
import { logsDir } from '../../core/logging/log-record.js';
import { parseLevel, parseSince } from '../../core/logging/log-query.js';
import { followLogs, readLogs, type LogEntry, type LogFilter } from '../../core/logging/log-reader.js';

interface LogsOptions {
  follow: boolean;
  level?: string;
  job?: string;
  since?: string;
  lines: string;
}

/** `appraise logs`: registered by cli/main.ts. Reads the log files only; it never opens the database. */
export function registerLogsCommand(program: Command): void {
  program
    .command('logs')
    .description('show the workspace log (every process: CLI, app, web host, job threads); --follow keeps printing new entries')
    .option('-f, --follow', 'keep printing new entries until Ctrl-C', false)
    .option('--level <level>', 'minimum level: trace, debug, info, warn, error, fatal')
    .option('--job <id>', 'only entries of this job (id or prefix)')
    .option('--since <when>', 'only entries since an ISO date/time (2026-05-01, 2026-05-01T14:30) or a duration back from now (10m, 2h, 7d)')
    .option('-n, --lines <n>', 'how many of the last matching entries to show', '50')
    .action(async (opts: LogsOptions, cmd: Command) => {
      const o = globals(cmd);
      const filter: LogFilter = {
        ...(opts.level === undefined ? {} : { level: parseLevel(opts.level) }),
        ...(opts.job === undefined ? {} : { jobId: opts.job }),
        ...(opts.since === undefined ? {} : { since: parseSince(opts.since) }),
      };
      const limit = Number(opts.lines);
      if (!Number.isInteger(limit) || limit < 0) throw invalidInput(`-n/--lines must be a whole number (0 or more), got "${opts.lines}"`);
      const dir = logsDir(resolveWorkspaceDir(o.workspace));
      const print = (e: LogEntry) => process.stdout.write(`${o.json ? e.line : formatEntry(e)}\n`);
      const noteSkipped = (n: number) => {
        if (!o.quiet) process.stderr.write(`appraise: skipped ${n} torn or invalid log line(s)\n`);
      };

      const r = await readLogs(dir, { ...filter, limit });
      for (const e of r.entries) print(e);
      if (r.skipped > 0) noteSkipped(r.skipped);
      if (r.entries.length === 0 && !o.json && !o.quiet && !opts.follow) {
        process.stdout.write(r.files.length === 0 ? `(no logs yet in ${dir})\n` : '(no matching log entries)\n');
      }
      if (!opts.follow) return;
      await cancelOnCtrlC(async (signal) => {
        // `appraise logs -f | head` closes the pipe: stop following instead of dying on EPIPE.
        const controller = new AbortController();
        const stop = () => controller.abort();
        signal.addEventListener('abort', stop);
        process.stdout.once('error', stop);
        try {
          for await (const e of followLogs(dir, { ...filter, signal: controller.signal, from: r.end, onSkipped: noteSkipped })) print(e);
        } finally {
          process.stdout.off('error', stop);
        }
      });
    });
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** One entry for people: local time, level, process[pid], ids, message, error code. */
export function formatEntry(e: LogEntry): string {
  const t = new Date(e.time);
  const time = `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}.${pad(t.getMilliseconds(), 3)}`;
  const who = `${e.process ?? '?'}[${e.pid ?? '?'}${e.threadId === undefined ? '' : `/${e.threadId}`}]`;
  const ids = [e.jobId && `job=${e.jobId}`, e.requestId && `req=${e.requestId}`, e.syncId && `sync=${e.syncId}`].filter(Boolean).join(' ');
  return [time, e.level.toUpperCase().padEnd(5), who, ids, e.msg, e.errorCode && `[${e.errorCode}]`].filter(Boolean).join('  ');
}
