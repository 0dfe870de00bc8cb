/** Dispatched on `window` when the Monitoring page acknowledged an alert, so the navigation's badge reads the count again. */
export const ALERTS_CHANGED_EVENT = 'appraise:alerts-changed';
