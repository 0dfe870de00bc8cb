/**
 * CI's dependency check (`node dist/scripts/dependency-audit.js`): fails on known high or critical advisories in
 * production dependencies, and says so plainly when the advisory service does not answer (this machine's registry
 * mirror refuses the bulk advisory endpoint), instead of passing silently. A lockfile out of step with package.json
 * already fails earlier: `npm ci` refuses to install it.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type AuditVerdict =
  | { kind: 'clean'; counts: Record<string, number> }
  | { kind: 'vulnerable'; counts: Record<string, number>; names: string[] }
  | { kind: 'unavailable'; reason: string };

/** Reads `npm audit --json` output: the report, or the error npm prints when the service did not answer. */
export function judgeAudit(stdout: string): AuditVerdict {
  let report: unknown;
  try {
    report = JSON.parse(stdout);
  } catch {
    return { kind: 'unavailable', reason: 'npm audit printed no JSON report' };
  }
  const r = report as {
    metadata?: { vulnerabilities?: Record<string, number> };
    vulnerabilities?: Record<string, { severity?: string }>;
    message?: string;
    error?: { summary?: string };
  };
  const counts = r.metadata?.vulnerabilities;
  if (!counts) return { kind: 'unavailable', reason: r.error?.summary || r.message || 'the advisory service gave no report' };
  const names = Object.entries(r.vulnerabilities ?? {})
    .filter(([, v]) => v.severity === 'high' || v.severity === 'critical')
    .map(([name]) => name);
  return (counts.high ?? 0) + (counts.critical ?? 0) > 0 ? { kind: 'vulnerable', counts, names } : { kind: 'clean', counts };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8', timeout: 120_000 });
  const verdict = judgeAudit(run.stdout ?? '');
  if (verdict.kind === 'vulnerable') {
    process.stderr.write(`dependency audit: high or critical advisories in production dependencies: ${verdict.names.join(', ')}\n`);
    process.exit(1);
  }
  if (verdict.kind === 'unavailable')
    process.stdout.write(`dependency audit: NOT CHECKED — the advisory service did not answer (${verdict.reason.slice(0, 160)})\n`);
  else process.stdout.write(`dependency audit: no high or critical advisories in production dependencies (${JSON.stringify(verdict.counts)})\n`);
}
