import { AppraiseError } from '../core/common/errors.js';
import { errorResponse, okResponse, type ApiResponse } from '../core/contract/api-response.js';
import { restartDecision, type UpdaterState } from '../core/sync/app-installer.js';
import { isTrustedSender } from './security-policy.js';

/** The IPC channel of "Restart to install" (repeated in preload.cts, which cannot import project files). */
export const IPC_RESTART_TO_INSTALL = 'appraise:restart-to-install';

/**
 * The body of the `appraise:restart-to-install` IPC handler: only the app's own main frame may ask, and the app
 * quits into the installer only when electron-updater holds the downloaded release (core/sync/app-installer.ts
 * decides). `quitAndInstall` (electron-updater's, passed by main.ts) runs after the answer is sent, so the
 * window hears "restarting" before it closes. Takes no input from the window: it cannot choose what installs.
 */
export function handleRestartToInstall(
  frame: { url: string; parent: unknown } | null | undefined,
  updater: () => UpdaterState,
  quitAndInstall: () => void,
  later: (fn: () => void) => void = (fn) => setImmediate(fn),
): ApiResponse<{ restarting: true; version: string }> {
  if (!isTrustedSender(frame)) return errorResponse(new AppraiseError('FORBIDDEN', 'a restart asked for by an untrusted frame was refused'));
  try {
    const { version } = restartDecision(updater());
    later(quitAndInstall);
    return okResponse({ restarting: true as const, version });
  } catch (e) {
    return errorResponse(e instanceof AppraiseError ? e : new AppraiseError('INTERNAL', String(e)));
  }
}
