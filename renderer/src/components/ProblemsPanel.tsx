import { useCallback, useEffect, useState } from 'react';
import type { MethodOutput } from '../../../core/contract/contract.js';
import { api } from '../api-client.js';
import { fmtDate } from '../format.js';

type RecentErrors = MethodOutput<'logs.recent'>;

/**
 * The workspace's recent problems from its log, in words, each with a "Copy details" action so a user can hand
 * support the whole record (error code, cause chain, ids; secrets and rows are never in the log). Refreshed when
 * opened and whenever a job fails.
 */
export function ProblemsPanel() {
  const [open, setOpen] = useState(false);
  const [items, setItems] = useState<RecentErrors>([]);
  const [copied, setCopied] = useState<number | null>(null);
  const refresh = useCallback(async () => {
    try {
      setItems(await api.call('logs.recent', { limit: 20 }));
    } catch {
      // The panel is a convenience: an unreadable log must not add a second problem on screen.
    }
  }, []);
  useEffect(() => {
    void refresh();
    return api.onEvent((e) => {
      if (e.type === 'job' && e.job.state === 'failed') void refresh();
    });
  }, [refresh]);

  const copy = async (i: number) => {
    await navigator.clipboard?.writeText(JSON.stringify(items[i].details, null, 2));
    setCopied(i);
  };

  if (items.length === 0 && !open) return null;
  return (
    <div className="problems">
      <button
        className="secondary"
        aria-expanded={open}
        data-testid="problems-toggle"
        onClick={() => {
          setOpen(!open);
          if (!open) void refresh();
        }}
      >
        Problems ({items.length})
      </button>
      {open && (
        <div className="problems-list card" role="dialog" aria-label="Recent problems" data-testid="problems">
          {items.length === 0 ? (
            <p className="muted">No problems recorded in this workspace's log.</p>
          ) : (
            <ul>
              {items.map((p, i) => (
                <li key={`${p.time}-${i}`}>
                  <div>
                    <small className="muted">{fmtDate(p.time)}</small> {p.message} {p.code && <small className="muted">({p.code})</small>}
                  </div>
                  <button className="link" onClick={() => void copy(i)}>
                    {copied === i ? 'Copied' : 'Copy details'}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
