/**
 * A clock a test moves by hand, for code that takes `{ now, after }` (the monitoring scheduler): timers fire, in
 * time order, when `advance` passes them, so a test can step through hours of periodic checks at once.
 */
export function manualClock(start: Date) {
  let t = start.getTime();
  let timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => new Date(t),
    after(ms: number, fn: () => void) {
      const timer = { at: t + ms, fn };
      timers.push(timer);
      return () => {
        timers = timers.filter((x) => x !== timer);
      };
    },
    advance(ms: number) {
      const end = t + ms;
      for (;;) {
        const due = timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers = timers.filter((x) => x !== due);
        t = Math.max(t, due.at);
        due.fn();
      }
      t = end;
    },
    pending: () => timers.length,
  };
}
