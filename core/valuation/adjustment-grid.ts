import type { DatasetConfig, GridGroup } from '../config/dataset-config.schema.js';
import type { FeatureOp } from '../features/feature-transform-schema.js';
import type { NormalizedValue } from '../schema/column-parser.js';
import { AppraiseError } from '../common/errors.js';
import type { AdjustedComparable, ComparableSale, FeatureContribution, GridAdjustment, GridEdits, Reconciliation } from './valuation-schemas.js';

/** Usual limits of the sales comparison approach: beyond them a comparable is flagged for a second look. */
export const NET_LIMIT = 0.15;
export const GROSS_LIMIT = 0.25;
const GROUP_ORDER: GridGroup[] = ['time', 'location', 'site', 'size', 'quality', 'condition', 'age', 'rooms', 'other'];

/** A comparable's contributions as the model explains its own features (at its own sale date), in currency. */
export interface ComparableExplanation {
  contributions: FeatureContribution[];
  /** The record the contributions are of (its column values). */
  values: Record<string, NormalizedValue>;
}

/**
 * The grid row of each model feature: the config's `gridGroup` when it gives one, else said from what the
 * feature is (the sale date and month index → time, coordinates → location, ages → age, the rest → other).
 */
export function gridGroupsOf(config: DatasetConfig, features: { name: string; spec: FeatureOp }[]): Map<string, GridGroup> {
  const cols = config.dataset.columns;
  const derived = new Map(config.features.derived.map((d) => [d.name, d]));
  const out = new Map<string, GridGroup>();
  for (const f of features) {
    const d = derived.get(f.name);
    const column = 'column' in f.spec ? cols[f.spec.column] : undefined;
    let g: GridGroup | undefined = d?.gridGroup ?? column?.gridGroup;
    if (!g && d) g = d.kind === 'month_index' ? 'time' : d.kind === 'ratio' ? 'other' : 'age';
    if (!g && column) g = column.type === 'date' ? 'time' : column.type === 'latitude' || column.type === 'longitude' ? 'location' : 'other';
    out.set(f.name, g ?? 'other');
  }
  return out;
}

/**
 * The sales comparison grid from the model itself: for each comparable, each feature's adjustment is the
 * subject's contribution minus the comparable's, in currency, summed into the appraiser's rows. Because each
 * side's contributions add up to its estimate minus the same base value, the adjustments of a comparable add
 * up to (subject's estimate − comparable's estimate), and its adjusted price is its price plus that.
 */
export function adjustComparables(
  subject: { contributions: FeatureContribution[]; values: Record<string, NormalizedValue> },
  comparables: { sale: ComparableSale; explained: ComparableExplanation }[],
  groups: Map<string, GridGroup>,
  featureColumn: (feature: string) => string | null,
): AdjustedComparable[] {
  const subjectAmount = new Map(subject.contributions.map((c) => [c.feature, c.amount]));
  return comparables.map(({ sale, explained }) => {
    const byGroup = new Map<GridGroup, GridAdjustment>();
    for (const c of explained.contributions) {
      const amount = (subjectAmount.get(c.feature) ?? 0) - c.amount;
      const group = groups.get(c.feature) ?? 'other';
      let line = byGroup.get(group);
      if (!line) byGroup.set(group, (line = { group, amount: 0, features: [] }));
      const column = featureColumn(c.feature);
      line.amount += amount;
      line.features.push({
        feature: c.feature,
        subject: column ? (subject.values[column] ?? null) : null,
        comparable: column ? (explained.values[column] ?? null) : null,
        amount,
      });
    }
    return withTotals(
      sale,
      GROUP_ORDER.flatMap((g) => (byGroup.has(g) ? [byGroup.get(g)!] : [])),
    );
  });
}

/** A comparable's adjusted price, net and gross adjustment and flags, from its adjustment lines. */
function withTotals<S extends ComparableSale>(sale: S, adjustments: GridAdjustment[]): S & Omit<AdjustedComparable, keyof ComparableSale> {
  const net = adjustments.reduce((s, a) => s + a.amount, 0);
  const gross = adjustments.reduce((s, a) => s + Math.abs(a.amount), 0);
  const netPct = net / sale.price;
  const grossPct = gross / sale.price;
  return {
    ...sale,
    adjustments,
    adjustedPrice: sale.price + net,
    netPct,
    grossPct,
    flags: { net: Math.abs(netPct) > NET_LIMIT, gross: grossPct > GROSS_LIMIT },
  };
}

/**
 * The appraiser's edits applied to the model's grid: excluded comparables are marked (and left out of the
 * reconciliation by `reconcileGrid`), an overridden line takes the appraiser's amount and keeps the model's
 * beside it with the reason, and the totals follow. An override of a line the comparable does not have (a
 * group no feature of the model falls in) adds that line. Edits naming a comparable not in the grid are
 * refused: they would silently do nothing.
 */
export function applyGridEdits(grid: AdjustedComparable[], edits: GridEdits): AdjustedComparable[] {
  const rows = new Set(grid.map((c) => c.rowIndex));
  for (const r of [...edits.excluded, ...edits.overrides.map((o) => o.rowIndex)]) {
    if (!rows.has(r))
      throw new AppraiseError('INVALID_INPUT', `comparable ${r} is not in this grid; exclude or adjust only the comparables listed`, {
        details: [{ field: 'edits', message: `no comparable ${r}` }],
      });
  }
  const excluded = new Set(edits.excluded);
  return grid.map((c) => {
    const mine = edits.overrides.filter((o) => o.rowIndex === c.rowIndex);
    let adjustments = c.adjustments;
    if (mine.length > 0) {
      const byGroup = new Map(adjustments.map((a) => [a.group, a]));
      for (const o of mine) {
        const line = byGroup.get(o.group) ?? { group: o.group, amount: 0, features: [] };
        const modelAmount = line.override ? line.override.modelAmount : line.amount;
        byGroup.set(o.group, { ...line, amount: o.amount, override: { modelAmount, reason: o.reason } });
      }
      adjustments = GROUP_ORDER.flatMap((g) => (byGroup.has(g) ? [byGroup.get(g)!] : []));
    }
    const out = withTotals(c, adjustments);
    if (excluded.has(c.rowIndex)) out.excluded = true;
    return out;
  });
}

/** The reconciliation over the comparables the appraiser kept. */
export function reconcileGrid(grid: AdjustedComparable[], estimate: number): Reconciliation | null {
  return reconcile(
    grid.filter((c) => !c.excluded),
    estimate,
  );
}

/** The adjusted prices side by side with the model's estimate. Null without comparables. */
export function reconcile(comparables: { adjustedPrice: number }[], estimate: number): Reconciliation | null {
  if (comparables.length === 0) return null;
  const prices = comparables.map((c) => c.adjustedPrice).sort((a, b) => a - b);
  const mid = prices.length >> 1;
  const median = prices.length % 2 ? prices[mid] : (prices[mid - 1] + prices[mid]) / 2;
  return {
    count: prices.length,
    mean: prices.reduce((s, p) => s + p, 0) / prices.length,
    median,
    low: prices[0],
    high: prices[prices.length - 1],
    differencePct: (median - estimate) / estimate,
  };
}
