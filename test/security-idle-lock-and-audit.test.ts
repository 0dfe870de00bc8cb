import { test, expect, afterAll } from 'vitest';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { tempAppHost, tempDir, tempServices, repoRoot, kcConfigPath, kcCsv, kcConfig } from './helpers/temp-workspace.js';
import { errorOf } from './helpers/workspace-fingerprint.js';
import { listenWebHost, TOKEN_HEADER } from '../core/api/web-host.js';
import { idleLockVerifier } from '../core/app/idle-lock.js';
import { Workspace } from '../core/workspace/workspace.js';
import { encryptWorkspace } from '../core/workspace/workspace-encryption.js';
import type { AuditEntry } from '../core/audit/audit-schemas.js';

const { dir, cleanup } = tempDir('appraise-idle-lock-');
afterAll(cleanup);

const LOCK_PASS = 'lock passphrase for the test';
const MINUTE = 60_000;

function clock(start = Date.parse('2026-01-05T09:00:00Z')) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const newest = (entries: AuditEntry[], action: string) => entries.filter((e) => e.action === action).at(-1);

test('idle lock: after the timeout every call is LOCKED (in process and over HTTP 423) until the passphrase unlocks it', async () => {
  const c = clock();
  const host = await tempAppHost({
    jobsInWorkers: false,
    processName: 'none',
    sync: { background: false },
    monitoringChecks: { background: false },
    idleLock: { timeoutMs: 15 * MINUTE, verify: idleLockVerifier(dir, { APPRAISE_LOCK_PASSPHRASE: LOCK_PASS }), now: c.now },
  });
  const web = await listenWebHost({ dispatcher: host.dispatcher, staticDir: null, port: 0 });
  const post = async (method: string, body: unknown) => {
    const r = await fetch(`${web.origin}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [TOKEN_HEADER]: web.token },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as { ok: boolean; result?: unknown; error?: { code: string; message: string } } };
  };
  try {
    const d = host.dispatcher;
    expect((await d.callSafe('datasets.list', {})).ok).toBe(true);
    // Activity keeps it open: 14 minutes, a call, 14 more minutes.
    c.advance(14 * MINUTE);
    expect((await d.callSafe('history.list', {})).ok).toBe(true);
    c.advance(14 * MINUTE);
    expect((await d.callSafe('datasets.list', {})).ok).toBe(true);

    c.advance(15 * MINUTE);
    for (const method of ['datasets.list', 'app.info', 'history.list', 'models.list']) {
      const r = await d.callSafe(method, {});
      expect(r.ok, method).toBe(false);
      if (!r.ok) {
        expect(r.error.code, method).toBe('LOCKED');
        expect(r.error.message).toMatch(/locked itself after 15 minutes/);
      }
    }
    const overHttp = await post('datasets.list', {});
    expect(overHttp.status).toBe(423);
    expect(overHttp.body.error?.code).toBe('LOCKED');
    // A job method is refused before anything starts.
    expect((await d.callSafe('datasets.ingest', { file: join(repoRoot, 'data', 'kc_house_sales.csv'), config: kcConfigPath })).ok).toBe(false);
    expect(host.jobs.list()).toHaveLength(0);

    // The lock screen polls the state; polls do not count as activity.
    const status = await d.callSafe('session.status', {});
    expect(status).toMatchObject({ ok: true, result: { locked: true, idleTimeoutMs: 15 * MINUTE } });

    const wrong = await post('session.unlock', { passphrase: 'not it at all' });
    expect(wrong.body.error?.code).toBe('LOCKED');
    expect(wrong.body.error?.message).toMatch(/does not unlock/);
    expect((await d.callSafe('datasets.list', {})).ok).toBe(false);

    expect(await post('session.unlock', { passphrase: LOCK_PASS })).toMatchObject({ status: 200, body: { ok: true, result: { locked: false } } });
    expect((await d.callSafe('datasets.list', {})).ok).toBe(true);

    // Lock now (the Lock button), then five wrong passphrases pause further attempts, even the right one.
    expect(await d.callSafe('session.lock', {})).toMatchObject({ ok: true, result: { locked: true } });
    expect((await d.callSafe('datasets.list', {})).ok).toBe(false);
    for (let i = 0; i < 5; i++) await d.callSafe('session.unlock', { passphrase: `guess number ${i}` });
    const paused = await d.callSafe('session.unlock', { passphrase: LOCK_PASS });
    expect(paused.ok ? null : paused.error.code).toBe('RATE_LIMITED');
    c.advance(31_000);
    expect((await d.callSafe('session.unlock', { passphrase: LOCK_PASS })).ok).toBe(true);

    // Locks, unlocks and failed unlocks are in the audit trail.
    const entries = host.services.audit.all();
    expect(entries.filter((e) => e.action === 'session.lock').map((e) => e.ids.reason)).toEqual(['idle', 'manual']);
    expect(entries.filter((e) => e.action === 'session.unlock' && e.outcome === 'refused')).toHaveLength(6);
    expect(entries.filter((e) => e.action === 'session.unlock' && e.outcome === 'ok')).toHaveLength(2);
  } finally {
    await web.close();
    await host.cleanup();
  }
});

test('a host without an idle lock never locks, and refuses session.lock (nothing could unlock it)', async () => {
  const host = await tempAppHost({ jobsInWorkers: false, processName: 'none', sync: { background: false }, monitoringChecks: { background: false } });
  try {
    expect(await host.dispatcher.callSafe('session.status', {})).toMatchObject({ ok: true, result: { locked: false, idleTimeoutMs: null } });
    const r = await host.dispatcher.callSafe('session.lock', {});
    expect(r.ok ? null : r.error.code).toBe('CONFLICT');
    expect((await host.dispatcher.callSafe('datasets.list', {})).ok).toBe(true);
  } finally {
    await host.cleanup();
  }
});

test('the idle lock of an encrypted workspace unlocks with the workspace passphrase; no passphrase at all refuses to start', async () => {
  const ws = join(dir, 'encrypted');
  Workspace.open(ws).close();
  encryptWorkspace(ws, 'the workspace passphrase');
  const verify = idleLockVerifier(ws, {});
  expect(verify('the workspace passphrase')).toBe(true);
  expect(verify('another passphrase')).toBe(false);
  const plain = join(dir, 'plain');
  Workspace.open(plain).close();
  const e = errorOf(() => idleLockVerifier(plain, {}));
  expect(e.code).toBe('INVALID_INPUT');
  expect(e.message).toMatch(/needs a passphrase to unlock with/);
  expect(errorOf(() => idleLockVerifier(plain, { APPRAISE_LOCK_PASSPHRASE: 'short' })).code).toBe('INVALID_INPUT');
});

test('audit gaps: a role refusal is recorded with the method and the actor; nothing else happens', async () => {
  const host = await tempAppHost({
    role: 'appraiser',
    jobsInWorkers: false,
    processName: 'none',
    sync: { background: false },
    monitoringChecks: { background: false },
  });
  try {
    const before = host.services.audit.all().length;
    const r = await host.dispatcher.callSafe('settings.setReport', { roundTo: 1000 });
    expect(r.ok ? null : r.error.code).toBe('FORBIDDEN');
    await host.dispatcher.callSafe('train', { dataset: 'x' });
    const added = host.services.audit.all().slice(before);
    expect(added.map((e) => [e.action, e.ids.method, e.outcome])).toEqual([
      ['api.refused', 'settings.setReport', 'refused'],
      ['api.refused', 'train', 'refused'],
    ]);
    expect(added[0].actor).toBe(host.services.audit.actor);
    expect(added.some((e) => e.action === 'settings.change')).toBe(false);
  } finally {
    await host.cleanup();
  }
});

test('audit gaps: a model imported through interop (an ONNX file here) is recorded, and so is a failed import and calibration', async () => {
  const s = tempServices();
  try {
    const lines = readFileSync(kcCsv, 'utf8').split(/\r?\n/).slice(0, 401);
    const csv = join(s.dir, 'kc400.csv');
    writeFileSync(csv, lines.join('\n'));
    const dataset = { id: (await s.datasets.ingest({ file: csv, config: kcConfig(), name: 'kc400' })).datasetId };
    const m = s.interop.importModel(join(repoRoot, 'models', 'king-county', 'model.onnx'), { dataset: dataset.id, name: 'external' });
    const ok = newest(s.audit.all(), 'model.import');
    expect(ok).toMatchObject({ outcome: 'ok', ids: { model: m.id, format: 'onnx' } });
    expect(() => s.interop.importModel(join(dir, 'model.bin'), { dataset: dataset.id })).toThrow(/give an XGBoost JSON model/);
    const failed = newest(s.audit.all(), 'model.import');
    expect(failed).toMatchObject({ outcome: 'failed', ids: { format: 'bin' } });
    expect(failed?.detail).toMatch(/^INVALID_INPUT: /);
    // A calibration against a dataset that does not exist is recorded as failed too.
    await expect(s.interop.calibrate(m.id, 'no-such-dataset')).rejects.toThrow();
    expect(newest(s.audit.all(), 'model.calibrate')).toMatchObject({ outcome: 'failed', ids: { ref: m.id, dataset: 'no-such-dataset' } });
  } finally {
    await s.cleanup();
  }
}, 60_000);
