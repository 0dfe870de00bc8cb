import { ApiCallError } from '../api-error.js';
import { windowMessage } from '../error-hints.js';

/** An error in words, with the code in small print for support; field issues listed when the API gave them. */
export function ErrorBanner({ error, onDismiss }: { error: unknown; onDismiss?: () => void }) {
  if (!error) return null;
  const e = error instanceof ApiCallError ? error : null;
  // Errors written for the terminal ("run appraise …") get the window's wording: what to click.
  const message = windowMessage(error);
  const issues = (e?.details as { issues?: { path: string; message: string }[] } | undefined)?.issues;
  return (
    <div className="error" role="alert">
      <strong>{e?.code === 'CANCELLED' ? 'Cancelled.' : 'Something needs attention.'}</strong> {message}
      {issues && issues.length > 0 && (
        <ul>
          {issues.slice(0, 8).map((i) => (
            <li key={i.path + i.message}>
              <code>{i.path}</code>: {i.message}
            </li>
          ))}
        </ul>
      )}
      {e && <small className="muted"> ({e.code})</small>}
      {onDismiss && (
        <button className="link" onClick={onDismiss} aria-label="Dismiss the message">
          Dismiss
        </button>
      )}
    </div>
  );
}
