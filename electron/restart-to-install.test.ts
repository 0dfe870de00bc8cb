import { expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UpdaterState } from '../core/sync/app-installer.js';
import { handleRestartToInstall, IPC_RESTART_TO_INSTALL } from './restart-to-install.js';
import { APP_ORIGIN } from './security-policy.js';

// electron-updater's quitAndInstall cannot run here (no Electron binary, no packaged build to install into):
// main.ts hands it to handleRestartToInstall as a function. These tests pass a recording one, to check when the
// window can and cannot make the app quit into the installer.
const appFrame = { url: `${APP_ORIGIN}/index.html`, parent: null };

function run(frame: { url: string; parent: unknown } | null, state: UpdaterState) {
  let quits = 0;
  const queued: (() => void)[] = [];
  const answer = handleRestartToInstall(
    frame,
    () => state,
    () => quits++,
    (fn) => queued.push(fn),
  );
  // The answer goes out first; the quit runs after it.
  const quitsBeforeAnswerSent = quits;
  for (const fn of queued) fn();
  return { answer, quits, quitsBeforeAnswerSent };
}

test('the app frame with a downloaded release: the answer says restarting, then the app quits into the installer once', () => {
  const r = run(appFrame, { state: 'downloaded', version: '1.4.0' });
  expect(r.answer).toEqual({ ok: true, result: { restarting: true, version: '1.4.0' } });
  expect(r.quitsBeforeAnswerSent).toBe(0);
  expect(r.quits).toBe(1);
});

test('nothing quits while the release is being prepared, after a failure, or with none; the answer says why', () => {
  for (const [state, words] of [
    [{ state: 'preparing', version: '1.4.0' }, /still being prepared/],
    [{ state: 'failed', message: 'updates install only into a packaged Appraise, not a development build' }, /packaged Appraise/],
    [{ state: 'idle' }, /No verified update is waiting/],
  ] as const) {
    const r = run(appFrame, state);
    expect(r.quits).toBe(0);
    expect(r.answer).toMatchObject({ ok: false, error: { code: 'CONFLICT', message: expect.stringMatching(words) } });
  }
});

test('a frame other than the app’s own main frame cannot restart the app', () => {
  for (const frame of [null, { url: 'https://evil.example/', parent: null }, { url: `${APP_ORIGIN}/index.html`, parent: {} }]) {
    const r = run(frame, { state: 'downloaded', version: '1.4.0' });
    expect(r.quits).toBe(0);
    expect(r.answer).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  }
});

test('the preload exposes the same channel, with no argument from the window', () => {
  const preload = readFileSync(join(import.meta.dirname, 'preload.cts'), 'utf8');
  expect(preload).toContain(`'${IPC_RESTART_TO_INSTALL}'`);
  expect(preload).toMatch(/restartToInstall: \(\) => ipcRenderer\.invoke\(IPC_RESTART_TO_INSTALL\)/);
});
