import { useEffect, useState } from 'react';
import type { MethodOutput } from '../../../../core/contract/contract.js';
import { api } from '../../api-client.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';

type Policy = MethodOutput<'sync.promotionPolicy'>;
type Draft = { enabled: boolean; marginPct: string; minSales: string };

const draftOf = (p: Policy): Draft => ({ enabled: p.enabled, marginPct: String(p.marginPct), minSales: String(p.minSales) });

function sourceInWords(p: Policy): string {
  if (p.source === 'workspace') return 'Set on this computer.';
  if (p.source === 'config')
    return `From the sync.autoPromote section of the ${p.configName ?? 'champion’s'} configuration (YAML), the one the champion was built with.`;
  return 'The default: off. Nothing is set on this computer or in the champion’s configuration.';
}

/**
 * Whether a model that arrives from the registry may replace the champion by itself (core/sync/auto-promote.ts):
 * on this computer's recent sales, not worse than the champion within the margin, with enough sales. Changing it
 * needs the analyst role (an appraiser session gets FORBIDDEN, shown in words) and is audited.
 */
export function PromotionPolicyCard() {
  const [policy, setPolicy] = useState<Policy | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    api.call('sync.promotionPolicy', {}).then((p) => {
      setPolicy(p);
      setDraft(draftOf(p));
    }, setError);
  }, []);

  const save = async (next: { enabled: boolean; marginPct: number; minSales: number } | null) => {
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const p = await api.call('sync.setPromotionPolicy', { policy: next });
      setPolicy(p);
      setDraft(draftOf(p));
      setSaved(true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  if (!policy || !draft) return error === null ? null : <ErrorBanner error={error} onDismiss={() => setError(null)} />;
  const edit = (patch: Partial<Draft>) => {
    setDraft({ ...draft, ...patch });
    setSaved(false);
  };
  return (
    <div className="card" data-testid="promotion-policy">
      <h2>Models from the registry</h2>
      <p>
        {policy.enabled
          ? `A model that arrives replaces the champion by itself when, on this computer’s ${policy.minSales} or more most recent sales with prices, it is not worse than the champion by more than ${policy.marginPct} %. Otherwise it waits for a person.`
          : 'A model that arrives waits as a challenger until a person promotes it on the Models screen.'}
      </p>
      <p className="muted small" data-testid="policy-source">
        {sourceInWords(policy)}
      </p>
      {policy.error && (
        <p className="error" data-testid="policy-error">
          The setting stored on this computer is damaged, so sync stops until it is saved again: {policy.error}
        </p>
      )}
      <div className="fields">
        <label className="field">
          <input type="checkbox" name="enabled" checked={draft.enabled} onChange={(e) => edit({ enabled: e.target.checked })} />
          <span>Replace the champion automatically when the new model is not worse</span>
        </label>
        <label className="field">
          <span>Margin: how much worse it may be (% of the champion’s median error)</span>
          <input name="marginPct" inputMode="decimal" value={draft.marginPct} onChange={(e) => edit({ marginPct: e.target.value })} />
        </label>
        <label className="field">
          <span>Fewest recent sales with prices to compare on</span>
          <input name="minSales" inputMode="numeric" value={draft.minSales} onChange={(e) => edit({ minSales: e.target.value })} />
        </label>
      </div>
      {error !== null && <ErrorBanner error={error} onDismiss={() => setError(null)} />}
      <div className="actions">
        <button
          type="button"
          disabled={busy}
          data-testid="policy-save"
          // Numbers are checked by the contract: a wrong one comes back as an error naming the field.
          onClick={() => void save({ enabled: draft.enabled, marginPct: Number(draft.marginPct), minSales: Number(draft.minSales) })}
        >
          Save on this computer
        </button>
        {policy.source === 'workspace' && (
          <button type="button" className="secondary" disabled={busy} onClick={() => void save(null)}>
            Remove this computer’s setting
          </button>
        )}
        {saved && <span role="status">Saved; the next sync applies it. The change is in the audit trail.</span>}
      </div>
    </div>
  );
}
