/** A job the user cancelled, said plainly and in neutral colours: cancelling is a choice, not an error. */
export function CancelledNotice({ what, onDismiss }: { what: string; onDismiss?: () => void }) {
  return (
    <p className="notice neutral" role="status" data-testid="job-cancelled">
      {what} was cancelled; nothing was changed.
      {onDismiss && (
        <>
          {' '}
          <button className="link" onClick={onDismiss} aria-label="Dismiss the message">
            Dismiss
          </button>
        </>
      )}
    </p>
  );
}
