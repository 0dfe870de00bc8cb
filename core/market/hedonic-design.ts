import type { HedonicSales } from './price-index.js';

/** What the hedonic design needs to know of one model feature. */
export interface DesignFeature {
  name: string;
  kind: 'numeric' | 'categorical';
  /** Derived from the sale date itself (day number, month index): the period dummies' job, never a control. */
  timeBased: boolean;
  /** Number of category codes (categorical features). */
  nCategories: number;
}

/** Most numeric characteristics held constant: the strongest few carry the mix adjustment; more only add noise. */
export const MAX_NUMERIC_CONTROLS = 10;
/** Most categorical fixed effects. */
export const MAX_EFFECTS = 2;
/** A categorical feature with more levels than this is too fine to hold constant with dummies. */
export const MAX_EFFECT_LEVELS = 300;

/**
 * Chooses the hedonic regression's controls from the data it is given, for the sale rows `rows`: the numeric
 * features most correlated with log price (log-scaled when positive and spread over orders of magnitude, as
 * areas are), and the categorical features that explain most of the price by group means (adjusted R², so a
 * feature with many levels must earn them). Nothing is named: any dataset's features compete the same way.
 */
export function hedonicSales(input: {
  X: Float32Array;
  nFeatures: number;
  rows: Int32Array;
  features: DesignFeature[];
  logPrice: Float64Array;
  day: Float64Array;
  region: { column: string; groups: Record<string, string> | null; codes: Int32Array; names: string[] } | null;
  ids: (string | null)[] | null;
}): HedonicSales {
  const { X, nFeatures: nF, rows, features } = input;
  const n = rows.length;
  const y = Float64Array.from(rows, (r) => input.logPrice[r]);
  let my = 0;
  for (const v of y) my += v / n;
  let syy = 0;
  for (const v of y) syy += (v - my) ** 2;

  const numeric: { f: number; log: boolean; mean: number; sd: number; score: number }[] = [];
  const effects: { f: number; score: number }[] = [];
  features.forEach((def, f) => {
    if (def.timeBased) return;
    // The region column is held constant as the regions' own fixed effect below: not twice.
    if (input.region && def.name === input.region.column) return;
    if (def.kind === 'numeric') {
      const col = Float64Array.from(rows, (r) => X[r * nF + f]);
      const present = col.filter((v) => !Number.isNaN(v)).sort();
      if (present.length < Math.max(10, n / 2)) return;
      const lo = present[0];
      const hi = present[present.length - 1];
      if (!(hi > lo)) return;
      // Raw or log scale, whichever tracks log price better: areas and lot sizes act per ratio, counts per unit.
      const options = lo > 0 ? [false, true] : [false];
      let best: { f: number; log: boolean; mean: number; sd: number; score: number } | null = null;
      for (const log of options) {
        let m = 0;
        let cnt = 0;
        for (const v of col)
          if (!Number.isNaN(v)) {
            m += log ? Math.log(v) : v;
            cnt++;
          }
        m /= cnt;
        let sxx = 0;
        let sxy = 0;
        col.forEach((v, i) => {
          if (Number.isNaN(v)) return;
          const x = (log ? Math.log(v) : v) - m;
          sxx += x * x;
          sxy += x * (y[i] - my);
        });
        if (!(sxx > 0) || !(syy > 0)) continue;
        const score = Math.abs(sxy) / Math.sqrt(sxx * syy);
        if (!best || score > best.score) best = { f, log, mean: m, sd: Math.sqrt(sxx / cnt), score };
      }
      if (best) numeric.push(best);
    } else if (def.nCategories >= 2 && def.nCategories <= MAX_EFFECT_LEVELS) {
      const sum = new Float64Array(def.nCategories);
      const cnt = new Int32Array(def.nCategories);
      rows.forEach((r, i) => {
        const c = X[r * nF + f];
        if (Number.isNaN(c)) return;
        cnt[c]++;
        sum[c] += y[i] - my;
      });
      let between = 0;
      let levels = 0;
      for (let c = 0; c < def.nCategories; c++)
        if (cnt[c] > 0) {
          between += (sum[c] * sum[c]) / cnt[c];
          levels++;
        }
      if (levels < 2 || !(syy > 0) || n <= levels) return;
      const r2 = between / syy;
      const adjusted = 1 - ((1 - r2) * (n - 1)) / (n - levels);
      if (adjusted > 0.02) effects.push({ f, score: adjusted });
    }
  });
  numeric.sort((a, b) => b.score - a.score || a.f - b.f);
  effects.sort((a, b) => b.score - a.score || a.f - b.f);
  const chosen = numeric.filter((c) => c.score > 0.02).slice(0, MAX_NUMERIC_CONTROLS);
  const chosenEffects = effects.slice(0, MAX_EFFECTS);
  const k = chosen.length;
  const values = new Float64Array(n * k);
  rows.forEach((r, i) => {
    chosen.forEach((c, j) => {
      const v = X[r * nF + c.f];
      values[i * k + j] = Number.isNaN(v) ? NaN : ((c.log ? Math.log(v) : v) - c.mean) / c.sd;
    });
  });
  const region = input.region ? { ...input.region, codes: Int32Array.from(rows, (r) => input.region!.codes[r]) } : null;
  return {
    n,
    logPrice: y,
    day: Float64Array.from(rows, (r) => input.day[r]),
    controls: { names: chosen.map((c) => (c.log ? `log ${features[c.f].name}` : features[c.f].name)), values },
    effects: [
      ...chosenEffects.map((e) => ({
        name: features[e.f].name,
        nLevels: features[e.f].nCategories,
        codes: Int32Array.from(rows, (r) => (Number.isNaN(X[r * nF + e.f]) ? -1 : X[r * nF + e.f])),
      })),
      // The regions themselves are held constant too: their price levels differ, and the mix of regions selling
      // changes from period to period.
      ...(region ? [{ name: `region (${region.column})`, nLevels: region.names.length, codes: region.codes }] : []),
    ],
    region,
    ids: input.ids ? Array.from(rows, (r) => input.ids![r]) : null,
  };
}
