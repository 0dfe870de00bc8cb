import { describe, expect, it } from 'vitest';
import { join, normalize } from 'node:path';
import { readFileSync } from 'node:fs';
import { handleInvoke } from './ipc-handler.js';
import { tempAppHost } from '../test/helpers/temp-workspace.js';
import {
  APP_ORIGIN,
  ELECTRON_CSP,
  isAllowedNavigation,
  isTrustedSender,
  permissionDecision,
  rendererResponseHeaders,
  resolveAppUrl,
  secureWebPreferences,
  windowOpenDecision,
} from './security-policy.js';

describe('Electron security policy', () => {
  it('webPreferences keep the sandbox, context isolation and no Node in the window', () => {
    const p = secureWebPreferences('/app/preload.cjs');
    expect(p).toMatchObject({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
    });
  });

  it('sends a strict CSP as a header with every renderer file', () => {
    const h = rendererResponseHeaders('text/html');
    expect(h['Content-Security-Policy']).toBe(ELECTRON_CSP);
    const directives = Object.fromEntries(
      ELECTRON_CSP.split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([k, ...v]) => [k, v]),
    );
    expect(directives['default-src']).toEqual(["'none'"]);
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(directives['object-src']).toEqual(["'none'"]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(directives['connect-src']).toEqual(["'self'"]);
    expect(ELECTRON_CSP).not.toMatch(/unsafe-eval|\*|http:|https:/);
    expect(h['X-Content-Type-Options']).toBe('nosniff');
  });

  it('allows navigation only within the app origin', () => {
    expect(isAllowedNavigation(`${APP_ORIGIN}/index.html`)).toBe(true);
    for (const url of [
      'https://example.com/',
      'http://127.0.0.1:3000/',
      'file:///etc/passwd',
      'app://other/index.html',
      'javascript:alert(1)',
      'not a url',
      'data:text/html,<script>1</script>',
    ]) {
      expect(isAllowedNavigation(url), url).toBe(false);
    }
  });

  it('never opens new windows; nothing is allow-listed for the system browser yet', () => {
    for (const url of ['https://example.com', `${APP_ORIGIN}/index.html`, 'file:///x', 'mailto:a@b.c']) {
      expect(windowOpenDecision(url)).toEqual({ action: 'deny', openExternally: false });
    }
  });

  it('denies every permission request', () => {
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fullscreen', 'unknown'])
      expect(permissionDecision(p)).toBe(false);
  });

  it('answers IPC only for the app page in the main frame', () => {
    expect(isTrustedSender({ url: `${APP_ORIGIN}/index.html`, parent: null })).toBe(true);
    expect(isTrustedSender({ url: `${APP_ORIGIN}/index.html`, parent: {} })).toBe(false);
    expect(isTrustedSender({ url: 'https://evil.example/', parent: null })).toBe(false);
    expect(isTrustedSender({ url: 'file:///index.html', parent: null })).toBe(false);
    expect(isTrustedSender(null)).toBe(false);
    expect(isTrustedSender(undefined)).toBe(false);
  });

  it('serves app:// only from the renderer folder', () => {
    const root = normalize('/opt/appraise/renderer/dist');
    expect(resolveAppUrl(`${APP_ORIGIN}/`, root, join, normalize)).toBe(join(root, 'index.html'));
    expect(resolveAppUrl(`${APP_ORIGIN}/assets/a.js`, root, join, normalize)).toBe(join(root, 'assets', 'a.js'));
    for (const u of [
      `${APP_ORIGIN}/../../etc/passwd`,
      `${APP_ORIGIN}/%2e%2e/%2e%2e/etc/passwd`,
      `${APP_ORIGIN}/..%2f..%2fsecret`,
      'app://other/index.html',
      'https://x/index.html',
      `${APP_ORIGIN}/a%00b`,
    ]) {
      const r = resolveAppUrl(u, root, join, normalize);
      expect(r === null || r.startsWith(root + '/'), u).toBe(true);
    }
  });

  it('main.ts wires these decisions (a cheap guard against someone bypassing the policy module)', () => {
    const main = readFileSync(new URL('./main.ts', import.meta.url), 'utf8');
    for (const s of [
      'secureWebPreferences(',
      "'will-navigate'",
      'setWindowOpenHandler',
      'setPermissionRequestHandler',
      'setPermissionCheckHandler',
      'handleInvoke(event.senderFrame',
      'rendererResponseHeaders(',
      'requestSingleInstanceLock',
      'utilityProcess.fork',
    ]) {
      expect(main, s).toContain(s);
    }
    expect(main).not.toMatch(/nodeIntegration:\s*true|contextIsolation:\s*false|sandbox:\s*false/);
    const preload = readFileSync(new URL('./preload.cts', import.meta.url), 'utf8');
    expect(preload.match(/exposeInMainWorld/g)?.length).toBe(1);
    expect(preload).not.toMatch(/ipcRenderer\s*[,}]?\s*\)\s*;?\s*$|exposeInMainWorld\([^)]*ipcRenderer\)/m);
  });
});

describe('IPC invoke handler', () => {
  it('refuses unknown senders without reaching core, and malformed input with a typed error from the dispatcher', async () => {
    const app = await tempAppHost({ jobsInWorkers: false });
    const dispatcher = app.dispatcher;
    let calls = 0;
    const callCore = (m: string, i: unknown) => {
      calls++;
      return dispatcher.callSafe(m, i);
    };
    try {
      for (const frame of [null, { url: 'https://evil.example/', parent: null }, { url: `${APP_ORIGIN}/index.html`, parent: {} }]) {
        const r = await handleInvoke(frame, 'datasets.list', {}, callCore);
        expect(r).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
      }
      expect(calls).toBe(0);
      const app = { url: `${APP_ORIGIN}/index.html`, parent: null };
      for (const m of [42, null, {}, 'x'.repeat(500)])
        expect(await handleInvoke(app, m, {}, callCore)).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
      expect(await handleInvoke(app, 'datasets.get', { ref: 7 }, callCore)).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
      expect(await handleInvoke(app, 'datasets.list', {}, callCore)).toEqual({ ok: true, result: [] });
    } finally {
      await app.cleanup();
    }
  });
});
