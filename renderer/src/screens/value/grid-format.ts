import type { ApiValuation } from '../../../../core/contract/contract.js';

export type GridComparable = Extract<ApiValuation['comparables'][number], { adjustedPrice: number }>;
export type GridGroup = GridComparable['adjustments'][number]['group'];

/** The grid's rows as appraisers name them (URAR order). */
export const GRID_GROUP_LABELS: Record<GridGroup, string> = {
  time: 'Market conditions (time)',
  location: 'Location',
  site: 'Site',
  size: 'Size',
  quality: 'Quality',
  condition: 'Condition',
  age: 'Age',
  rooms: 'Rooms',
  other: 'Other',
};
export const GRID_GROUPS = Object.keys(GRID_GROUP_LABELS) as GridGroup[];

/** The comparables that carry a grid (an adjusted price); empty when the valuation has none. */
export function gridComparables(v: ApiValuation): GridComparable[] {
  return v.comparables.filter((c): c is GridComparable => 'adjustedPrice' in c);
}

/** The grid's rows present in any comparable, in the appraisers' order. */
export function gridGroupsOf(comps: GridComparable[]): GridGroup[] {
  const present = new Set(comps.flatMap((c) => c.adjustments.map((a) => a.group)));
  return GRID_GROUPS.filter((g) => present.has(g));
}
