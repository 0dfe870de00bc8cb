import { useState } from 'react';
import type { ApiValuation, FormSchema, MethodInput, MethodOutput } from '../../../../core/contract/contract.js';
import { api } from '../../api-client.js';
import { useMoney } from '../../app-context.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { fieldValueText, featureLabel } from '../../feature-format.js';
import { fmtPct } from '../../format.js';
import { GRID_GROUP_LABELS, gridComparables, gridGroupsOf, type GridGroup } from './grid-format.js';

type ValuationGrid = MethodOutput<'valuation.grid'>;
type GridEdits = NonNullable<MethodInput<'valuation.grid'>['edits']>;
type Edits = Required<GridEdits>;

const NO_EDITS: Edits = { excluded: [], added: [], overrides: [] };

/**
 * The sales comparison grid, asked for when the appraiser opens it (it explains every comparable, several
 * times the work of the valuation itself). Each change — excluding a comparable, adding a sale by id,
 * overriding a line with a reason — is sent to core, which recomputes the totals and the reconciliation, so
 * the screen, the CLI and the report agree.
 */
export function GridPanel({ v, form, onGrid }: { v: ApiValuation; form: FormSchema; onGrid: (grid: ValuationGrid) => void }) {
  const money = useMoney();
  const comps = gridComparables(v);
  const edits: Edits = { ...NO_EDITS, ...(v.gridEdits ?? {}) };
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [editing, setEditing] = useState<{ rowIndex: number; group: GridGroup } | null>(null);
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [addId, setAddId] = useState('');

  const request = async (next: Edits) => {
    setBusy(true);
    setError(null);
    try {
      onGrid(await api.call('valuation.grid', { model: v.modelId, input: v.input, valuationDate: v.valuationDate ?? undefined, edits: next }));
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };

  if (comps.length === 0) {
    return (
      <div className="grid-panel">
        <ErrorBanner error={error} onDismiss={() => setError(null)} />
        <button className="secondary" disabled={busy || v.comparables.length === 0} onClick={() => void request(edits)} data-testid="open-grid">
          {busy ? 'Working out the adjustments…' : 'Open the adjustment grid'}
        </button>
        <p className="muted small">The grid adjusts each comparable sale to the subject, line by line, with amounts derived from the model.</p>
      </div>
    );
  }

  const groups = gridGroupsOf(comps);
  const attrs = Object.keys(comps[0].attributes);
  const field = (name: string) => form.fields.find((f) => f.name === name);
  const toggleExcluded = (rowIndex: number) =>
    void request({
      ...edits,
      excluded: edits.excluded.includes(rowIndex) ? edits.excluded.filter((r) => r !== rowIndex) : [...edits.excluded, rowIndex],
    });
  const startEdit = (rowIndex: number, group: GridGroup) => {
    const line = comps.find((c) => c.rowIndex === rowIndex)?.adjustments.find((a) => a.group === group);
    setEditing({ rowIndex, group });
    setAmount(line ? String(Math.round(line.amount)) : '0');
    setReason(line?.override?.reason ?? '');
  };
  const applyOverride = async () => {
    if (!editing) return;
    const others = edits.overrides.filter((o) => !(o.rowIndex === editing.rowIndex && o.group === editing.group));
    if (await request({ ...edits, overrides: [...others, { ...editing, amount: Number(amount), reason }] })) setEditing(null);
  };
  const removeOverride = async () => {
    if (!editing) return;
    if (await request({ ...edits, overrides: edits.overrides.filter((o) => !(o.rowIndex === editing.rowIndex && o.group === editing.group)) }))
      setEditing(null);
  };
  const amountOk = amount.trim() !== '' && Number.isFinite(Number(amount));
  const r = v.reconciliation;

  return (
    <div className="grid-panel">
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <div className="grid-scroll">
        <table className="compact grid" data-testid="grid-table" aria-busy={busy}>
          <thead>
            <tr>
              <th scope="col" />
              <th scope="col">Subject</th>
              {comps.map((c, i) => (
                <th scope="col" key={c.rowIndex} className={c.excluded ? 'excluded' : undefined} data-testid={`grid-comp-${i}`}>
                  Comparable {i + 1}
                  {c.added && <span className="muted small"> (added)</span>}
                  <label className="small exclude">
                    <input
                      type="checkbox"
                      checked={Boolean(c.excluded)}
                      disabled={busy}
                      onChange={() => toggleExcluded(c.rowIndex)}
                      data-testid={`grid-exclude-${i}`}
                    />{' '}
                    Exclude
                  </label>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            <tr>
              <th scope="row">Sale id</th>
              <td>—</td>
              {comps.map((c) => (
                <td key={c.rowIndex}>{c.saleId ?? '—'}</td>
              ))}
            </tr>
            <tr>
              <th scope="row">Sale date</th>
              <td>{v.valuationDate ?? '—'}</td>
              {comps.map((c) => (
                <td key={c.rowIndex}>{c.saleDate ?? '—'}</td>
              ))}
            </tr>
            <tr>
              <th scope="row">Distance</th>
              <td />
              {comps.map((c) => (
                <td key={c.rowIndex} className="num">
                  {c.distanceKm === null ? '—' : `${c.distanceKm.toFixed(2)} km`}
                </td>
              ))}
            </tr>
            {attrs.map((a) => (
              <tr key={a}>
                <th scope="row">{featureLabel(form, a)}</th>
                <td>{fieldValueText(field(a), v.input[a])}</td>
                {comps.map((c) => (
                  <td key={c.rowIndex}>{fieldValueText(field(a), c.attributes[a])}</td>
                ))}
              </tr>
            ))}
            <tr className="strong">
              <th scope="row">Sale price</th>
              <td />
              {comps.map((c) => (
                <td key={c.rowIndex} className="num">
                  {money.format(c.price)}
                </td>
              ))}
            </tr>
            {groups.map((g) => (
              <tr key={g}>
                <th scope="row">{GRID_GROUP_LABELS[g]}</th>
                <td />
                {comps.map((c, i) => {
                  const line = c.adjustments.find((a) => a.group === g);
                  return (
                    <td
                      key={c.rowIndex}
                      className={line?.override ? 'num overridden' : 'num'}
                      data-testid={`grid-cell-${i}-${g}`}
                      data-amount={line?.amount ?? 0}
                    >
                      <button
                        className="link"
                        disabled={busy}
                        onClick={() => startEdit(c.rowIndex, g)}
                        title={
                          line?.override
                            ? `override: ${line.override.reason} (the model said ${money.signed(line.override.modelAmount)})`
                            : (line?.features.map((f) => `${featureLabel(form, f.feature)}: ${money.signed(f.amount)}`).join('\n') ?? 'no adjustment')
                        }
                      >
                        {line ? money.signed(line.amount) : '—'}
                      </button>
                      {line?.override && <div className="small override-note">override: {line.override.reason}</div>}
                    </td>
                  );
                })}
              </tr>
            ))}
            <tr className="strong">
              <th scope="row">Net adjustment</th>
              <td />
              {comps.map((c) => (
                <td key={c.rowIndex} className="num">
                  {money.signed(c.adjustedPrice - c.price)}
                </td>
              ))}
            </tr>
            <tr>
              <th scope="row">Net / gross</th>
              <td />
              {comps.map((c) => (
                <td
                  key={c.rowIndex}
                  className={c.flags.net || c.flags.gross ? 'num warn' : 'num'}
                  title="As a share of the sale price; flagged beyond 15 % net or 25 % gross"
                >
                  {fmtPct(c.netPct, 0)} / {fmtPct(c.grossPct, 0)}
                </td>
              ))}
            </tr>
            <tr className="strong">
              <th scope="row">Adjusted price</th>
              <td />
              {comps.map((c, i) => (
                <td key={c.rowIndex} className="num" data-testid={`grid-adjusted-${i}`} data-value={c.adjustedPrice}>
                  {money.format(c.adjustedPrice)}
                </td>
              ))}
            </tr>
          </tbody>
        </table>
      </div>
      {editing && (
        <form
          className="inline-form override-form"
          aria-label="Override an adjustment"
          onSubmit={(e) => {
            e.preventDefault();
            void applyOverride();
          }}
        >
          <p className="small">
            {GRID_GROUP_LABELS[editing.group]} for comparable {comps.findIndex((c) => c.rowIndex === editing.rowIndex) + 1}: your adjustment replaces the
            model&apos;s and is marked as yours in the grid and the report.
          </p>
          <label className="field">
            <span>Adjustment ({money.currency})</span>
            <input name="override-amount" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} data-testid="override-amount" />
          </label>
          <label className="field grow">
            <span>Reason (required)</span>
            <input name="override-reason" value={reason} onChange={(e) => setReason(e.target.value)} data-testid="override-reason" maxLength={500} />
          </label>
          <div className="actions">
            <button type="submit" disabled={busy || !amountOk || reason.trim() === ''} data-testid="override-apply">
              Apply override
            </button>
            {comps.find((c) => c.rowIndex === editing.rowIndex)?.adjustments.find((a) => a.group === editing.group)?.override && (
              <button type="button" className="secondary" onClick={() => void removeOverride()}>
                Back to the model&apos;s adjustment
              </button>
            )}
            <button type="button" className="secondary" onClick={() => setEditing(null)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      <form
        className="inline-form"
        aria-label="Add a comparable sale"
        onSubmit={(e) => {
          e.preventDefault();
          const id = addId.trim();
          if (id && !edits.added.includes(id)) void request({ ...edits, added: [...edits.added, id] }).then((ok) => ok && setAddId(''));
        }}
      >
        <label className="field">
          <span>Add a sale from the workspace by its id</span>
          <input name="add-sale" value={addId} onChange={(e) => setAddId(e.target.value)} placeholder="e.g. a parcel id" data-testid="grid-add-id" />
        </label>
        <div className="actions">
          <button type="submit" className="secondary" disabled={busy || addId.trim() === ''} data-testid="grid-add">
            Add comparable
          </button>
        </div>
      </form>
      {r ? (
        <p data-testid="reconciliation" data-median={r.median}>
          Reconciliation: {r.count} comparable{r.count === 1 ? '' : 's'} adjusted to {money.format(r.low)} – {money.format(r.high)}, median{' '}
          <strong>{money.format(r.median)}</strong> ({fmtPct(r.differencePct)} from the model&apos;s estimate).
        </p>
      ) : (
        <p data-testid="reconciliation">Every comparable is excluded: the value rests on the model alone.</p>
      )}
    </div>
  );
}
