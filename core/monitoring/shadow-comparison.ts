import type { MonitoringConfig } from '../config/monitoring-config.schema.js';
import type { ModelSummary } from '../models/model-schemas.js';
import { median } from '../training/accuracy-metrics.js';
import type { ShadowComparison } from './monitoring-schemas.js';
import type { ShadowPair } from './monitoring-store.js';
import { wilcoxonSignedRank } from './paired-test.js';

const fmt = (x: number, d = 3) => x.toPrecision(d);

/**
 * Champion against one shadow challenger on the same sold valuations: the Wilcoxon signed-rank test on the
 * paired absolute log errors (positive difference: the challenger was closer to the sale price), and each equity
 * group (the report's groupBy column) with enough sales tested the same way for the challenger being worse there.
 * Verdicts: `better` when the one-sided p-value is below retraining.pValue and no group is significantly worse;
 * `worse` when the two-sided test says the champion is closer; `insufficient` below retraining.minPairedSales.
 */
export function compareShadow(input: {
  challenger: ModelSummary;
  pairs: ShadowPair[];
  scored: number;
  cfg: MonitoringConfig;
  groupColumn: string | null;
  /** Into the space the errors are measured in (log price for a log target). */
  forward: (v: number) => number;
}): ShadowComparison {
  const { pairs, cfg, forward } = input;
  const r = cfg.retraining;
  const challenger = { id: input.challenger.id, name: input.challenger.name, status: input.challenger.status };
  const errs = pairs.map((p) => {
    const y = forward(p.salePrice);
    return { champion: Math.abs(forward(p.championEstimate) - y), challenger: Math.abs(forward(p.challengerEstimate) - y) };
  });
  const diffs = errs.map((e) => e.champion - e.challenger);
  if (pairs.length < Math.max(r.minPairedSales, 1)) {
    return {
      challenger,
      scored: input.scored,
      test: null,
      worseGroups: [],
      verdict: 'insufficient',
      message: `${pairs.length} sold valuation(s) scored by both models; the paired test needs ${r.minPairedSales} (monitoring.retraining.minPairedSales)`,
    };
  }
  const t = wilcoxonSignedRank(diffs);
  const medianOf = (xs: number[]) => median(Float64Array.from(xs).sort());
  const test = {
    pairs: pairs.length,
    n: t.n,
    statistic: t.statistic,
    z: t.z,
    pValue: t.pValue,
    effectSize: t.effectSize,
    championMedianAbsLogError: medianOf(errs.map((e) => e.champion)),
    challengerMedianAbsLogError: medianOf(errs.map((e) => e.challenger)),
  };

  const worseGroups: ShadowComparison['worseGroups'] = [];
  if (input.groupColumn) {
    const byGroup = new Map<string, number[]>();
    pairs.forEach((p, i) => {
      const g = String(p.input()[input.groupColumn!] ?? '(missing)');
      const list = byGroup.get(g);
      if (list) list.push(i);
      else byGroup.set(g, [i]);
    });
    for (const [group, idx] of byGroup) {
      if (idx.length < cfg.accuracy.minSales) continue;
      const g = wilcoxonSignedRank(idx.map((i) => diffs[i]));
      if (g.z < 0 && g.pValueTwoSided < r.pValue) {
        worseGroups.push({
          group,
          n: idx.length,
          championMedianRatio: medianOf(idx.map((i) => pairs[i].championEstimate / pairs[i].salePrice)),
          challengerMedianRatio: medianOf(idx.map((i) => pairs[i].challengerEstimate / pairs[i].salePrice)),
        });
      }
    }
  }
  const figures = `${pairs.length} paired sales, W+ ${fmt(t.statistic, 6)}, z ${fmt(t.z)}, one-sided p ${t.pValue.toExponential(2)}; median |log error| ${fmt(test.challengerMedianAbsLogError)} vs ${fmt(test.championMedianAbsLogError)} for the champion`;
  if (t.z < 0 && t.pValueTwoSided < r.pValue)
    return { challenger, scored: input.scored, test, worseGroups, verdict: 'worse', message: `the challenger is worse than the champion (${figures})` };
  if (t.pValue < r.pValue && worseGroups.length === 0)
    return { challenger, scored: input.scored, test, worseGroups, verdict: 'better', message: `the challenger is better than the champion (${figures})` };
  return {
    challenger,
    scored: input.scored,
    test,
    worseGroups,
    verdict: 'not-better',
    message:
      worseGroups.length > 0
        ? `the challenger is better overall but worse for ${input.groupColumn} ${worseGroups.map((g) => g.group).join(', ')}: not promoted (${figures})`
        : `no significant difference yet (p ≥ ${r.pValue}; ${figures})`,
  };
}
