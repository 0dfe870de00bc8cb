import { useState } from 'react';
import { api } from '../../api-client.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';

/**
 * "Restart to install" for a release sync downloaded and verified. In the desktop app it asks main to quit into
 * electron-updater's installer (which took the release only from the TUF-verified folder); on the web host the
 * button explains that installing is the desktop app's job. Either way a refusal is said in words.
 */
export function RestartToInstall() {
  const [error, setError] = useState<unknown>(null);
  const [restarting, setRestarting] = useState<string | null>(null);
  const restart = async () => {
    setError(null);
    try {
      setRestarting((await api.restartToInstall()).version);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <>
      <button type="button" data-testid="restart-to-install" disabled={restarting !== null} onClick={() => void restart()}>
        {restarting ? `Restarting into Appraise ${restarting}…` : 'Restart to install'}
      </button>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
    </>
  );
}
