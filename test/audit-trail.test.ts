import { test, expect, describe, beforeAll, afterAll } from 'vitest';
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir, tempServices, kcCsv, kcConfigPath, repoRoot } from './helpers/temp-workspace.js';
import { runCli } from './helpers/run-cli.js';
import { openDatasetServices } from '../core/services/open-datasets.js';
import { verifyAuditTrail, verifyAuditExport, exportAuditTrail, auditKeyPath } from '../core/audit/audit-export.js';
import { AppraiseError } from '../core/common/errors.js';
import { entryHash } from '../core/audit/audit-chain.js';

/** A workspace whose trail holds `n` entries, written through the real SQLite trail. */
function workspaceWithEntries(dir: string, n: number): string {
  const ws = join(dir, 'ws');
  const s = openDatasetServices(ws, { actor: 'tester' });
  try {
    for (let i = 0; i < n; i++) s.audit.record({ action: 'model.promote', ids: { model: `m${i}` }, outcome: 'ok' });
  } finally {
    s.close();
  }
  return ws;
}

/** Opens the database the way someone with the file and a SQLite shell would: triggers dropped first. */
function tamper(ws: string, sql: string): void {
  const db = new Database(join(ws, 'appraise.db'));
  try {
    db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_head_forward_only; DROP TRIGGER audit_head_no_delete;');
    db.exec(sql);
  } finally {
    db.close();
  }
}

const verifyProblems = (ws: string) => {
  const s = openDatasetServices(ws);
  try {
    return verifyAuditTrail(s.audit);
  } finally {
    s.close();
  }
};

describe('the chain names every kind of tampering by entry', () => {
  test('an intact trail verifies; the triggers refuse UPDATE and DELETE', () => {
    const { dir, cleanup } = tempDir();
    try {
      const ws = workspaceWithEntries(dir, 5);
      const r = verifyProblems(ws);
      expect(r).toMatchObject({ ok: true, entries: 5, head: { seq: 5 } });
      const db = new Database(join(ws, 'appraise.db'));
      try {
        expect(() => db.exec(`UPDATE audit_log SET outcome = 'failed' WHERE seq = 2`)).toThrow(/append-only/);
        expect(() => db.exec('DELETE FROM audit_log WHERE seq = 5')).toThrow(/append-only/);
        expect(() => db.exec('UPDATE audit_head SET seq = 3')).toThrow(/append-only/);
      } finally {
        db.close();
      }
    } finally {
      cleanup();
    }
  });

  const cases: { name: string; sql: string; expected: { seq: number; kind: string }[] }[] = [
    { name: 'edit', sql: `UPDATE audit_log SET outcome = 'failed' WHERE seq = 4`, expected: [{ seq: 4, kind: 'edited' }] },
    { name: 'delete', sql: 'DELETE FROM audit_log WHERE seq = 3', expected: [{ seq: 3, kind: 'removed' }] },
    {
      name: 'reorder',
      // Swap entries 2 and 3 (seq is the rowid: park one at 100 while moving the other).
      sql: 'UPDATE audit_log SET seq = 100 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 100;',
      expected: [
        { seq: 2, kind: 'reordered' },
        { seq: 3, kind: 'reordered' },
      ],
    },
    { name: 'truncate', sql: 'DELETE FROM audit_log WHERE seq > 4', expected: [{ seq: 5, kind: 'truncated' }] },
  ];
  for (const c of cases) {
    test(`${c.name}: detected, with the entry named`, () => {
      const { dir, cleanup } = tempDir();
      try {
        const ws = workspaceWithEntries(dir, 6);
        tamper(ws, c.sql);
        const r = verifyProblems(ws);
        expect(r.ok).toBe(false);
        expect(r.problems.map((p) => ({ seq: p.seq, kind: p.kind }))).toEqual(c.expected);
      } finally {
        cleanup();
      }
    });
  }

  test('an entry edited and re-hashed on its own breaks the link of the next one', () => {
    const { dir, cleanup } = tempDir();
    try {
      const ws = workspaceWithEntries(dir, 4);
      const s = openDatasetServices(ws);
      const e2 = s.audit.all()[1];
      s.close();
      // A careful forger recomputes entry 2's hash after the edit (with the module's own hash function).
      const { hash: _old, ...body } = { ...e2, outcome: 'failed' as const };
      tamper(ws, `UPDATE audit_log SET outcome = 'failed', hash = '${entryHash(body)}' WHERE seq = 2`);
      const r = verifyProblems(ws);
      expect(r.problems.map((p) => ({ seq: p.seq, kind: p.kind }))).toEqual([{ seq: 3, kind: 'broken-link' }]);
      expect(r.problems[0].message).toMatch(/entry 2 was replaced/);
    } finally {
      cleanup();
    }
  });
});

describe('appraise audit verify / export on the command line', () => {
  let dir: string;
  let cleanup: () => void;
  let ws: string;
  beforeAll(() => {
    ({ dir, cleanup } = tempDir());
    ws = workspaceWithEntries(dir, 6);
  });
  afterAll(() => cleanup());

  test('intact: exit 0; a signed export verifies; an edited export or trail exits 1 naming the entry', async () => {
    const ok = await runCli(['-w', ws, 'audit', 'verify', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, entries: 6 });

    const out = join(dir, 'review', 'audit.json');
    const exported = await runCli(['-w', ws, 'audit', 'export', '--out', out, '--json']);
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ entries: 7 }); // the export records itself
    expect(statSync(auditKeyPath(ws)).mode & 0o777).toBe(0o600);
    const checked = await runCli(['audit', 'verify', '--export', out, '--json']);
    expect(checked.code).toBe(0);
    expect(JSON.parse(checked.stdout)).toMatchObject({ ok: true, entries: 7 });

    // An export edited after signing: the signature fails (and the chain names the entry).
    const text = readFileSync(out, 'utf8');
    const doc = JSON.parse(text) as { entries: { seq: number; outcome: string }[] };
    doc.entries[2].outcome = 'failed';
    const edited = join(dir, 'edited.json');
    writeFileSync(edited, JSON.stringify(doc));
    const bad = await runCli(['audit', 'verify', '--export', edited]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/signature does not match/);
    expect(bad.stderr).toMatch(/entry 3 \(model\.promote\) was edited/);

    tamper(ws, 'DELETE FROM audit_log WHERE seq = 2');
    const broken = await runCli(['-w', ws, 'audit', 'verify']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/entry 2 was removed/);
    // A damaged trail is not signed for a reviewer.
    const refused = await runCli(['-w', ws, 'audit', 'export', '--out', join(dir, 'again.json')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/damaged, so it was not exported/);
  }, 120_000);
});

test('an export signed by one workspace key does not verify with another key swapped in', () => {
  const { dir, cleanup } = tempDir();
  try {
    const a = openDatasetServices(join(dir, 'a'));
    const b = openDatasetServices(join(dir, 'b'));
    try {
      a.audit.record({ action: 'model.promote', ids: { model: 'x' }, outcome: 'ok' });
      const fa = exportAuditTrail(a.audit, a.workspace.dir, join(dir, 'a.json'));
      const fb = exportAuditTrail(b.audit, b.workspace.dir, join(dir, 'b.json'));
      expect(fa.fingerprint).not.toBe(fb.fingerprint);
      const docA = JSON.parse(readFileSync(fa.file, 'utf8')) as { publicKey: string };
      docA.publicKey = (JSON.parse(readFileSync(fb.file, 'utf8')) as { publicKey: string }).publicKey;
      writeFileSync(join(dir, 'swapped.json'), JSON.stringify(docA));
      const r = verifyAuditExport(join(dir, 'swapped.json'));
      expect(r.problems.map((p) => p.kind)).toEqual(['bad-signature']);
      expect(() => verifyAuditExport(join(dir, 'missing.json'))).toThrow(AppraiseError);
    } finally {
      a.close();
      b.close();
    }
  } finally {
    cleanup();
  }
});

test('the services record ingest, delete, import, promote, archive, export, rollback and saved valuations with actor and outcome', async () => {
  const s = tempServices();
  try {
    const lines = readFileSync(kcCsv, 'utf8').split('\n');
    const small = join(s.dir, 'small.csv');
    writeFileSync(small, `${lines.slice(0, 301).join('\n')}\n`);
    const ingested = await s.datasets.ingest({ file: small, config: kcConfigPath, name: 'audit-small' });
    await expect(s.datasets.ingest({ file: join(s.dir, 'nope.csv'), config: kcConfigPath })).rejects.toThrow();
    const bundled = join(repoRoot, 'models', 'king-county');
    const model = s.models.importFrom(join(bundled, 'model.onnx'), join(bundled, 'manifest.json'));
    s.models.promote(model.id);
    expect(() => s.models.archive(model.id)).toThrow(/champion cannot be archived/);
    s.models.exportTo(model.id, join(s.dir, 'exported'));
    expect(() => s.models.rollback()).toThrow();
    // A valuation of the first sale, saved and deleted as the Value screen does.
    const columns = Object.keys(s.models.manifest(model.id).datasetConfig.dataset.columns);
    const [header, row] = [lines[0].split(','), lines[1].split(',')];
    const input = Object.fromEntries(header.map((n, i) => [n, row[i]]).filter(([n]) => columns.includes(n) && n !== 'price' && n !== 'date'));
    const saved = s.history.save('12 Elm St', await s.valuation.value('champion', input, { log: false }));
    expect(s.history.delete(saved.id)).toBe(true);
    s.datasets.delete(ingested.datasetId);

    const entries = s.audit.all();
    expect(entries.map((e) => [e.action, e.outcome])).toEqual([
      ['dataset.ingest', 'ok'],
      ['dataset.ingest', 'failed'],
      ['model.import', 'ok'],
      ['model.promote', 'ok'],
      ['model.archive', 'failed'],
      ['model.export', 'ok'],
      ['model.rollback', 'failed'],
      ['valuation.save', 'ok'],
      ['valuation.delete', 'ok'],
      ['dataset.delete', 'ok'],
    ]);
    expect(entries[0].ids).toMatchObject({ file: small, dataset: ingested.datasetId, rowsAccepted: ingested.rowsAccepted });
    expect(entries[3].ids).toMatchObject({ model: model.id });
    expect(entries[4].detail).toMatch(/^CONFLICT: /);
    expect(new Set(entries.map((e) => e.actor)).size).toBe(1);
    expect(entries[7].ids).toMatchObject({ model: model.id, valuation: saved.id });
    expect(verifyAuditTrail(s.audit)).toMatchObject({ ok: true, entries: 10 });
  } finally {
    await s.cleanup();
  }
}, 60_000);
