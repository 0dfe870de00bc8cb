import { NormalEquations } from './linear-algebra.js';

/**
 * A repeat-sales index (Bailey, Muth and Nourse 1963; the core of S&P CoreLogic Case–Shiller and the FHFA HPI):
 * for each property sold twice, the change in its log price is regressed on −1 at the first sale's period and
 * +1 at the second's. It needs no characteristics at all, but only resold properties count, so it serves as a
 * cross-check of the hedonic index where a file has enough resales. Null when it has too few: fewer pairs than
 * max(30, 2 × periods), or pairs that do not link every period to the reference.
 */
export function repeatSalesIndex(
  ids: (string | null)[],
  logPrice: Float64Array,
  period: Int32Array,
  first: number,
  nPeriods: number,
  /** The reference period (index within the periods), whose log index is 0. */
  ref: number,
): { pairs: number; logIndex: Float64Array; se: Float64Array; counts: Int32Array } | null {
  const byId = new Map<string, number[]>();
  ids.forEach((id, i) => {
    if (id === null || id === '') return;
    const list = byId.get(id);
    if (list) list.push(i);
    else byId.set(id, [i]);
  });
  const pairs: [number, number][] = [];
  for (const rows of byId.values()) {
    if (rows.length < 2) continue;
    rows.sort((a, b) => period[a] - period[b] || a - b);
    for (let j = 1; j < rows.length; j++) if (period[rows[j]] !== period[rows[j - 1]]) pairs.push([rows[j - 1], rows[j]]);
  }
  if (pairs.length < Math.max(30, 2 * nPeriods)) return null;
  // Column t for period t < ref and t − 1 after it; the reference period has none (its log index is 0).
  const col = (t: number) => (t < ref ? t : t - 1);
  const ne = new NormalEquations(nPeriods - 1);
  const cols = new Int32Array(2);
  const vals = new Float64Array(2);
  const counts = new Int32Array(nPeriods);
  for (const [a, b] of pairs) {
    let len = 0;
    const ta = period[a] - first;
    const tb = period[b] - first;
    counts[tb]++;
    if (ta !== ref) {
      cols[len] = col(ta);
      vals[len++] = -1;
    }
    if (tb !== ref) {
      cols[len] = col(tb);
      vals[len++] = 1;
    }
    ne.add(cols, vals, len, logPrice[b] - logPrice[a]);
  }
  if (nPeriods < 2) return null;
  const fit = ne.solve(
    new Float64Array(nPeriods - 1),
    Array.from({ length: nPeriods - 1 }, (_, t) => t),
  );
  if (!fit) return null;
  const logIndex = new Float64Array(nPeriods);
  const se = new Float64Array(nPeriods);
  for (let t = 0; t < nPeriods; t++) {
    if (t === ref) continue;
    logIndex[t] = fit.beta[col(t)];
    se[t] = Math.sqrt(fit.variances[col(t)]);
  }
  return { pairs: pairs.length, logIndex, se, counts };
}
