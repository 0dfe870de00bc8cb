import { AppraiseError } from '../common/errors.js';

/**
 * Where the desktop shell's installer (electron-updater, electron/app-updater.ts) stands with the release core
 * verified: nothing handed over, being prepared (electron-updater reading it from the verified folder), ready to
 * install, or failed. Kept in core so the decision below is plain code, testable without an Electron binary.
 */
export type UpdaterState =
  { state: 'idle' } | { state: 'preparing'; version: string } | { state: 'downloaded'; version: string } | { state: 'failed'; message: string };

/**
 * Whether "Restart to install" may quit the app now: only when electron-updater holds a downloaded release (which
 * it took only from the folder TUF verified). Otherwise a CONFLICT that says why, in words; nothing quits.
 */
export function restartDecision(updater: UpdaterState): { version: string } {
  switch (updater.state) {
    case 'downloaded':
      return { version: updater.version };
    case 'preparing':
      throw new AppraiseError(
        'CONFLICT',
        `Appraise ${updater.version} is verified and still being prepared for installation; try again in a minute. Your work is not affected.`,
      );
    case 'failed':
      throw new AppraiseError('CONFLICT', `The update cannot be installed from here: ${updater.message}. It will be tried again at the next start.`);
    default:
      throw new AppraiseError('CONFLICT', 'No verified update is waiting to be installed; the Sync page shows one when it has arrived.');
  }
}
