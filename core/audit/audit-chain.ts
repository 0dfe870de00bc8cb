import { createHash } from 'node:crypto';
import type { AuditEntry, AuditHead, AuditProblem } from './audit-schemas.js';

/** The prevHash of entry 1: there is nothing before it. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * A canonical encoding: JSON with object keys sorted at every level and no whitespace. The same entry always
 * encodes to the same bytes whatever order its fields were built in, so the hash depends on content only.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('canonicalJson: non-finite number');
    return JSON.stringify(value ?? null);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/**
 * The hash of an entry: SHA-256 over a domain tag and the canonical encoding of every field but the hash itself.
 * The seq and the previous entry's hash are inside, so an entry cannot be moved, dropped or edited without
 * breaking its own hash or the next entry's link.
 */
export function entryHash(entry: Omit<AuditEntry, 'hash'>): string {
  const { seq, at, actor, action, ids, outcome, detail, prevHash } = entry;
  return createHash('sha256').update('appraise-audit/1\n').update(canonicalJson({ seq, at, actor, action, ids, outcome, detail, prevHash })).digest('hex');
}

/** How far from its position a moved entry is searched for, to tell "reordered" from "edited". */
const REORDER_WINDOW = 64;

/**
 * Checks a chain read in seq order against the head record kept beside it. Every problem names the entry (by
 * seq): an edited entry no longer matches its hash; a removed one leaves a gap in the sequence; a moved one
 * matches its hash only under another seq; a cut-off tail leaves the head pointing past the last entry.
 */
export function verifyChain(entries: readonly AuditEntry[], head: AuditHead | null): AuditProblem[] {
  const problems: AuditProblem[] = [];
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let previousIntact = true;
  for (const e of entries) {
    let gap = false;
    if (e.seq > expectedSeq) {
      gap = true;
      for (let s = expectedSeq; s < e.seq && problems.length < 1000; s++) {
        problems.push({ seq: s, kind: 'removed', message: `entry ${s} was removed (entry ${s - 1 || 'none'} is followed by entry ${e.seq})` });
      }
    } else if (e.seq < expectedSeq) {
      problems.push({ seq: e.seq, kind: 'reordered', message: `entry ${e.seq} appears after entry ${expectedSeq - 1}, out of order` });
    }
    const { hash, ...body } = e;
    const intact = entryHash(body) === hash;
    if (!intact) {
      const originalSeq = findOriginalSeq(e);
      problems.push(
        originalSeq !== null
          ? { seq: e.seq, kind: 'reordered', message: `entry ${e.seq} holds what was entry ${originalSeq} (entries were reordered)` }
          : { seq: e.seq, kind: 'edited', message: `entry ${e.seq} (${e.action}) was edited: its content no longer matches its hash` },
      );
    } else if (!gap && previousIntact && e.prevHash !== prevHash) {
      // Its own content is intact but it does not follow the entry before it: that one was replaced.
      problems.push({ seq: e.seq, kind: 'broken-link', message: `entry ${e.seq} does not follow entry ${e.seq - 1}: entry ${e.seq - 1} was replaced` });
    }
    previousIntact = intact;
    prevHash = hash;
    expectedSeq = Math.max(expectedSeq, e.seq + 1);
    if (problems.length >= 1000) break;
  }
  const last = entries.length > 0 ? entries[entries.length - 1] : null;
  if (head === null) {
    if (last) problems.push({ seq: last.seq, kind: 'truncated', message: 'the record of the newest entry was removed, so a cut-off end cannot be ruled out' });
  } else if (head.seq > (last?.seq ?? 0)) {
    const from = (last?.seq ?? 0) + 1;
    problems.push({
      seq: from,
      kind: 'truncated',
      message:
        from === head.seq
          ? `entry ${from}, the newest, was removed (the trail was truncated)`
          : `entries ${from} to ${head.seq} were removed from the end (the trail was truncated)`,
    });
  } else if (last && (head.seq < last.seq || head.hash !== last.hash)) {
    problems.push({ seq: last.seq, kind: 'edited', message: `entry ${last.seq}, the newest, does not match the record of the newest entry (${head.seq})` });
  }
  return problems;
}

function findOriginalSeq(e: AuditEntry): number | null {
  const { hash, ...body } = e;
  for (let d = 1; d <= REORDER_WINDOW; d++) {
    for (const seq of [e.seq - d, e.seq + d]) {
      if (seq >= 1 && entryHash({ ...body, seq }) === hash) return seq;
    }
  }
  return null;
}

/** The one-line summary of a list of problems, for a CLI message. */
export function describeProblems(problems: readonly AuditProblem[]): string {
  const shown = problems.slice(0, 10).map((p) => `  ${p.message}`);
  return [...shown, ...(problems.length > 10 ? [`  … and ${problems.length - 10} more`] : [])].join('\n');
}
