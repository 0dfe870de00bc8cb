import type { HistoryEntry } from '../../../../core/contract/contract.js';
import { useApp, useMoney } from '../../app-context.js';
import { roundEstimate } from '../../feature-format.js';
import { fmtDate } from '../../format.js';

/** The valuations saved to the history, newest first; each can be opened again or deleted. */
export function SavedValuations({
  entries,
  onOpen,
  onDelete,
}: {
  entries: HistoryEntry[];
  onOpen: (h: HistoryEntry) => void;
  onDelete: (h: HistoryEntry) => void;
}) {
  const money = useMoney();
  const form = useApp().info?.form ?? null;
  return (
    <details className="card history" open={entries.length > 0}>
      <summary>Saved valuations ({entries.length})</summary>
      {entries.length === 0 ? (
        <p className="muted">Save a valuation to keep it here.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Saved</th>
              <th>Valuation</th>
              <th className="num">Estimate</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {entries.map((h) => (
              <tr key={h.id}>
                <td>{fmtDate(h.savedAt)}</td>
                <td>{h.label}</td>
                <td className="num">{money.format(roundEstimate(h.valuation.estimate, form))}</td>
                <td>
                  <button className="link" onClick={() => onOpen(h)}>
                    Open
                  </button>{' '}
                  <button className="link" onClick={() => onDelete(h)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </details>
  );
}
