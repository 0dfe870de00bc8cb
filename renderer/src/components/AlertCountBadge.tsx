import { useCallback, useEffect, useState } from 'react';
import { useApp } from '../app-context.js';
import { api } from '../api-client.js';
import { ALERTS_CHANGED_EVENT } from '../alert-events.js';

/** The id of the count's description: the Monitoring button's aria-describedby. */
export const ALERT_COUNT_DESCRIPTION_ID = 'nav-alert-count-description';

/** How often the count is read again while the window is open: the periodic check may store new alerts. */
const REFRESH_MS = 60_000;

/**
 * The number of stored monitoring alerts nobody has acknowledged yet, beside Monitoring in the navigation.
 * Read again on every screen change, when the Monitoring page acknowledges one, after each finished job, and
 * every minute; no badge when there are none or they cannot be read.
 */
export function AlertCountBadge() {
  const { screen, jobs } = useApp();
  const [count, setCount] = useState(0);
  const load = useCallback(() => {
    api.call('monitoring.alerts', { limit: 1000 }).then(
      (alerts) => setCount(alerts.filter((a) => !a.acknowledged).length),
      () => setCount(0),
    );
  }, []);
  useEffect(load, [load, screen]);
  useEffect(() => {
    window.addEventListener(ALERTS_CHANGED_EVENT, load);
    const timer = setInterval(load, REFRESH_MS);
    const off = jobs.onFinished(load);
    return () => {
      window.removeEventListener(ALERTS_CHANGED_EVENT, load);
      clearInterval(timer);
      off();
    };
  }, [load, jobs]);
  // The number is hidden from the button's name (it stays "Monitoring") and read as its description instead; the
  // description is always there, so the button's aria-describedby never points at nothing.
  return (
    <>
      {count > 0 && (
        <span className="badge alert-count" data-testid="nav-alert-count" aria-hidden="true">
          {count}
        </span>
      )}
      <span id={ALERT_COUNT_DESCRIPTION_ID} hidden>
        {count === 0 ? 'no unacknowledged monitoring alerts' : `${count} unacknowledged monitoring alert${count === 1 ? '' : 's'}`}
      </span>
    </>
  );
}
