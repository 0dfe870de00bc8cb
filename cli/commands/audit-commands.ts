import type { Command } from 'commander';
import { resolve } from 'node:path';
import { globals } from './context.js';
import { printJson, printTable } from '../output.js';
import { AppraiseError, invalidInput } from '../../core/common/errors.js';
import { openDatasetServices } from '../../core/services/open-datasets.js';
import { describeProblems } from '../../core/audit/audit-chain.js';
import { exportAuditTrail, verifyAuditExport, verifyAuditTrail } from '../../core/audit/audit-export.js';
import type { AuditVerification } from '../../core/audit/audit-schemas.js';
import { readPassphraseFile, requirePassphrase } from './passphrase.js';

/** The passphrase of an encrypted export: `--export-passphrase-file FILE`, else $APPRAISE_EXPORT_PASSPHRASE. */
function exportPassphrase(file: string | undefined): string | undefined {
  if (file) return readPassphraseFile(file);
  return process.env.APPRAISE_EXPORT_PASSPHRASE || undefined;
}

/**
 * `appraise audit`: registered by cli/main.ts. The audit trail needs only the workspace database, so these commands
 * open the data half of the services (no onnxruntime, no learner).
 */
export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description("the workspace's tamper-evident record of ingests, training, promotions, saved valuations and sync");

  audit
    .command('list')
    .description('the newest entries of the audit trail')
    .option('-n, --limit <n>', 'how many entries', '50')
    .option('--offset <n>', 'skip this many of the newest entries', '0')
    .action((opts: { limit: string; offset: string }, cmd: Command) => {
      const o = globals(cmd);
      const limit = wholeNumber(opts.limit, '--limit');
      const offset = wholeNumber(opts.offset, '--offset');
      const s = openDatasetServices(o.workspace);
      try {
        const page = s.audit.list(limit, offset);
        if (o.json) return printJson(page);
        printTable(
          page.entries.map((e) => ({ seq: e.seq, at: e.at, actor: e.actor, action: e.action, outcome: e.outcome, ids: JSON.stringify(e.ids).slice(0, 80) })),
          ['seq', 'at', 'actor', 'action', 'outcome', 'ids'],
        );
      } finally {
        s.close();
      }
    });

  audit
    .command('verify')
    .description('check that no entry was edited, removed, reordered or cut off (exit 1 naming the entries if one was); --export checks an export file instead')
    .option('--export <file>', 'verify an audit export (its signature and chain) without opening a workspace')
    .option('--export-passphrase-file <file>', 'the passphrase of an encrypted export (default: $APPRAISE_EXPORT_PASSPHRASE)')
    .action((opts: { export?: string; exportPassphraseFile?: string }, cmd: Command) => {
      const o = globals(cmd);
      if (opts.export) {
        const file = resolve(opts.export);
        const r = verifyAuditExport(file, exportPassphrase(opts.exportPassphraseFile));
        report(
          r,
          `the audit export ${file}`,
          o.json,
          o.quiet,
          `signed by the key with fingerprint ${r.fingerprint}; compare it with the one the workspace's owner gave you`,
        );
        return;
      }
      const s = openDatasetServices(o.workspace);
      try {
        report(verifyAuditTrail(s.audit), `the audit trail of ${s.workspace.dir}`, o.json, o.quiet);
      } finally {
        s.close();
      }
    });

  audit
    .command('export')
    .description('write every entry with an Ed25519 signature by the workspace key, for a reviewer (check it with audit verify --export FILE)')
    .requiredOption('--out <file>', 'the export file to write')
    .option(
      '--encrypt',
      'encrypt the export (AES-256-GCM) with the passphrase from --export-passphrase-file or $APPRAISE_EXPORT_PASSPHRASE; the reviewer opens it with appraise decrypt FILE',
    )
    .option('--export-passphrase-file <file>', 'the passphrase for --encrypt (give it to the reviewer separately)')
    .action((opts: { out: string; encrypt?: boolean; exportPassphraseFile?: string }, cmd: Command) => {
      const o = globals(cmd);
      const passphrase = opts.encrypt
        ? requirePassphrase(opts.exportPassphraseFile, 'APPRAISE_EXPORT_PASSPHRASE', 'a passphrase for the encrypted export', '--export-passphrase-file')
        : undefined;
      const s = openDatasetServices(o.workspace);
      try {
        const before = verifyAuditTrail(s.audit);
        if (!before.ok) {
          // A reviewer must not receive a signature over a trail that is already known to be broken.
          throw new AppraiseError('BAD_FILE', `the audit trail is damaged, so it was not exported:\n${describeProblems(before.problems)}`, {
            details: { problems: before.problems },
          });
        }
        const r = exportAuditTrail(s.audit, s.workspace.dir, resolve(opts.out), passphrase === undefined ? {} : { passphrase });
        if (o.json) return printJson(r);
        if (!o.quiet)
          process.stdout.write(
            `wrote ${r.entries} audit entries to ${r.file}${r.encrypted ? ' (encrypted)' : ''}\nsigning key fingerprint: ${r.fingerprint} (give it to the reviewer separately)\n`,
          );
      } finally {
        s.close();
      }
    });
}

function report(r: AuditVerification & { fingerprint?: string | null }, what: string, json: boolean, quiet: boolean, note?: string): void {
  if (!r.ok) {
    throw new AppraiseError(
      'BAD_FILE',
      `${what} was tampered with (${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}):\n${describeProblems(r.problems)}`,
      {
        details: { problems: r.problems, entries: r.entries },
      },
    );
  }
  if (json) return printJson(r);
  if (!quiet) process.stdout.write(`${what} is intact: ${r.entries} entries${note ? `\n${note}` : ''}\n`);
}

function wholeNumber(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw invalidInput(`${flag} must be a whole number (0 or more), got "${v.slice(0, 20)}"`);
  return n;
}
