import { useApp } from '../../app-context.js';
import { useJob } from '../../jobs/use-job.js';
import { CancelledNotice } from '../../components/CancelledNotice.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { ProgressBar } from '../../components/ProgressBar.js';
import { fmtNum } from '../../format.js';

/**
 * What the Value screen offers while it cannot value yet (no data, or data but no champion model): one button
 * that loads the bundled demo data and its model as champion, so the first valuation needs no terminal. The
 * job lives in the app's JobStore, so leaving the screen while it runs loses nothing; when it ends the app info
 * (form and champion) refreshes and the form appears.
 */
export function FirstRunCard({ reason }: { reason: 'no-data' | 'no-model' }) {
  const { info, go } = useApp();
  const job = useJob('app.loadDemo');
  const running = job.state === 'running';
  const hasDemo = Boolean(info?.demo);
  return (
    <div className="card" data-testid="first-run">
      {reason === 'no-data' ? (
        <p>This workspace has no data yet, so there is no property form to show.</p>
      ) : (
        <p>There is no champion model yet, so nothing can be valued.</p>
      )}
      {hasDemo && (
        <p className="muted small">
          The demo holds 21,597 King County sales (2014–2015) and a model trained on them. Loading it takes a few seconds; your own data can be imported later
          on the Data screen.
        </p>
      )}
      <p className="actions">
        {hasDemo && (
          <button onClick={() => void job.start({})} disabled={running} data-testid="load-demo">
            Load the demo data and model
          </button>
        )}
        {running && (
          <button type="button" className="secondary" onClick={() => void job.cancel()}>
            Cancel
          </button>
        )}
        <button className={hasDemo ? 'secondary' : undefined} onClick={() => go(reason === 'no-data' ? 'data' : 'train')} disabled={running}>
          {reason === 'no-data' ? 'Import my own data' : 'Train a model'}
        </button>
      </p>
      {running && (
        <ProgressBar
          value={job.progress ? job.progress.bytesRead / Math.max(1, job.progress.totalBytes) : null}
          label={job.progress ? `Importing the demo sales: ${fmtNum(job.progress.rowsAccepted)} rows` : 'Starting…'}
        />
      )}
      <ErrorBanner error={job.error} onDismiss={job.reset} />
      {job.state === 'cancelled' && <CancelledNotice what="Loading the demo" onDismiss={job.reset} />}
    </div>
  );
}
