/**
 * Electron security decisions as small pure functions, so Vitest checks them without the Electron binary and a
 * regression (say, someone turning sandbox off) fails CI. electron/main.ts only wires these into Electron.
 */
import { RENDERER_CSP } from '../core/api/renderer-csp.js';

/** The privileged scheme the renderer is served from inside Electron (app://appraise/index.html). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'appraise';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/** Sent as a response header with every renderer document (see `rendererResponseHeaders`). */
export const ELECTRON_CSP = RENDERER_CSP;

/** The BrowserWindow's webPreferences: sandboxed, isolated, no Node, no remote content features. */
export function secureWebPreferences(preloadPath: string) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    enableBlinkFeatures: '',
    navigateOnDragDrop: false,
    spellcheck: false,
    safeDialogs: true,
    devTools: process.env.APPRAISE_DEVTOOLS === '1',
  } as const;
}

/** Headers for every file the app:// protocol serves. */
export function rendererResponseHeaders(contentType: string): Record<string, string> {
  return {
    'Content-Type': contentType,
    'Content-Security-Policy': ELECTRON_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Referrer-Policy': 'no-referrer',
  };
}

/** The window may only ever show the app's own pages; anything else (links, drag-and-drop, redirects) is refused. */
export function isAllowedNavigation(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}

/** Addresses the app may hand to the operating system's browser (help pages); nothing for now. */
export const EXTERNAL_ALLOW_LIST: readonly string[] = [];

/** window.open / target=_blank: never a new Electron window; allow-listed https links go to the system browser. */
export function windowOpenDecision(url: string): { action: 'deny'; openExternally: boolean } {
  let external = false;
  try {
    const u = new URL(url);
    external = u.protocol === 'https:' && EXTERNAL_ALLOW_LIST.some((prefix) => url.startsWith(prefix));
  } catch {
    external = false;
  }
  return { action: 'deny', openExternally: external };
}

/** Camera, microphone, geolocation, notifications, clipboard…: the app needs none, so every request is denied. */
export function permissionDecision(_permission: string): boolean {
  return false;
}

/** IPC is answered only for the app's own top-level page (a frame without parent), never a sub-frame or another origin. */
export function isTrustedSender(frame: { url: string; parent: unknown } | null | undefined): boolean {
  if (!frame || frame.parent !== null) return false;
  return isAllowedNavigation(frame.url);
}

/** Maps an app:// request to a file under the renderer folder, or null when it would leave it. */
export function resolveAppUrl(url: string, rendererDir: string, join: (...p: string[]) => string, normalize: (p: string) => string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return null;
  let rel: string;
  try {
    rel = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  if (rel === '/' || rel === '') rel = '/index.html';
  if (rel.includes('\0')) return null;
  const root = normalize(rendererDir);
  const file = normalize(join(root, rel));
  return file.startsWith(root) && file.length > root.length ? file : null;
}
