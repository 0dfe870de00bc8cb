import cliProgress from 'cli-progress';
import { AppraiseError } from '../core/common/errors.js';

/** How the CLI talks: JSON on stdout for machines, tables and progress bars (on a TTY) for people. */
export interface OutputOptions {
  json: boolean;
  quiet: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printTable(rows: Record<string, unknown>[], columns?: string[]): void {
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const cols = columns ?? Object.keys(rows[0]);
  const cells = rows.map((r) => cols.map((c) => formatCell(r[c])));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (isNumeric(v) ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(cols)}\n${widths.map((w) => '─'.repeat(w)).join('  ')}\n${cells.map(line).join('\n')}\n`);
}

function isNumeric(s: string): boolean {
  return /^-?[\d,.]+%?$/.test(s);
}

export function formatCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return Math.abs(v) < 10_000 ? String(v) : v.toLocaleString('en-US');
    const a = Math.abs(v);
    return a !== 0 && (a < 0.001 || a >= 1e9) ? v.toExponential(3) : v.toLocaleString('en-US', { maximumFractionDigits: a < 1 ? 4 : 2 });
  }
  return String(v);
}

/** A progress bar on stderr when a person is watching; silent otherwise (CI, pipes, --json). */
export class Progress {
  private bar: cliProgress.SingleBar | null = null;

  constructor(private readonly enabled: boolean) {}

  static for(opts: OutputOptions): Progress {
    return new Progress(!opts.json && !opts.quiet && Boolean(process.stderr.isTTY));
  }

  start(total: number, label: string, unit = ''): void {
    if (!this.enabled) return;
    this.bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total}${unit} | {detail} | ETA {eta_formatted}`,
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, { detail: '' });
  }

  update(value: number, detail = ''): void {
    this.bar?.update(value, { detail });
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

/** Exit codes: 0 ok, 1 the user's input or environment is wrong (the message says what to fix), 2 a bug. */
export function exitCodeFor(e: unknown): 1 | 2 {
  return e instanceof AppraiseError && e.isUserError ? 1 : 2;
}
