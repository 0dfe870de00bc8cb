import type { CompiledTransform } from '../features/feature-transform.js';
import type { Reconciliation } from './valuation-schemas.js';

/**
 * Two things the model's own calibration cannot see about one property, each widening its band and saying why:
 *
 * - a **sparse neighbourhood**: its k-th nearest sale is farther than for 99 % of the sales the model learned
 *   from. The difficulty model knows areas, not how alone a property is in them; the half-width grows with the
 *   square root of how much farther (the error of an average over sales falls with √(their number), and the
 *   number within reach falls with distance), at most doubled;
 * - **disagreement with the comparables**: the median adjusted price of the comparables lies further from the
 *   estimate than the property's FSD. Adjusted prices are the comparables' sale prices moved by the model's own
 *   differences, so a gap is the model's error on the sales next door: the band reaches toward them (the gap
 *   joins the band as a distance, as extrapolation does in band-widening.ts).
 *
 * Neither is calibrated out of fold (the out-of-fold sales are by construction inside the data); both only widen.
 */

/** Most the half-width grows for a sparse neighbourhood. */
const MAX_SPARSE_SCALE = 2;
/** Fewest comparables in the reconciliation before their disagreement counts. */
const MIN_COMPARABLES = 3;

export function sparseNeighbourhood(n: { distanceKm: number; typicalKm: number } | null, k: number): { scale: number; reason: string | null } {
  if (!n || !(n.typicalKm > 0) || !(n.distanceKm > n.typicalKm)) return { scale: 1, reason: null };
  const scale = Math.min(MAX_SPARSE_SCALE, Math.sqrt(n.distanceKm / n.typicalKm));
  return {
    scale,
    reason:
      `the band is wider because few sales are near this property: the ${ordinal(k)} nearest sale the model learned from is ${n.distanceKm.toFixed(1)} km away, ` +
      `farther than for 99 % of those sales (${n.typicalKm.toFixed(1)} km)`,
  };
}

export function comparablesDisagreement(
  r: Reconciliation | undefined,
  estimate: number,
  fsd: number | null,
  compiled: Pick<CompiledTransform, 'target'>,
): { bias: number; reason: string } | null {
  if (!r || r.count < MIN_COMPARABLES || !(r.median > 0) || !(estimate > 0) || fsd === null) return null;
  const gap = Math.abs(Math.log(r.median / estimate));
  if (!(gap > fsd)) return null;
  const bias = Math.abs(compiled.target(r.median) - compiled.target(estimate));
  if (!Number.isFinite(bias)) return null;
  const pct = Math.round(Math.abs(r.differencePct) * 100);
  return {
    bias,
    reason:
      `the band is wider because the comparables disagree with the model: the median of their ${r.count} adjusted prices is ${(Math.round(r.median / 1000) * 1000).toLocaleString('en-US')}, ` +
      `${pct} % ${r.median > estimate ? 'above' : 'below'} the estimate — more than its FSD of ${Math.round(fsd * 100)} % — so the band reaches toward them`,
  };
}

function ordinal(k: number): string {
  const s = k % 100 >= 11 && k % 100 <= 13 ? 'th' : (({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[k % 10] ?? 'th');
  return `${k}${s}`;
}
