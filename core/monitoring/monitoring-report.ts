import { AppraiseError } from '../common/errors.js';
import { defaultMonitoringConfig, type MonitoringConfig } from '../config/monitoring-config.schema.js';
import type { ModelManifest, ModelSummary } from '../models/model-schemas.js';
import { binCounts, chiSquareTest, decileEdges, jensenShannonDistance, ksFromCounts, numericBin, psi } from './drift-statistics.js';
import type { PredictionFilter, PredictionLog } from './prediction-log.js';
import { priceTiers, ratioStudy } from './ratio-study.js';
import {
  MONITORING_REPORT_FORMAT,
  type CheckStatus,
  type MonitoringAlert,
  type MonitoringReport,
  type featureDriftSchema,
  type featureQualitySchema,
  type ratioStudySchema,
  type ShadowComparison,
} from './monitoring-schemas.js';
import { LabelFreeAccumulator } from './label-free-estimate.js';
import type { z } from 'zod';

type FeatureDrift = z.output<typeof featureDriftSchema>;
type FeatureQuality = z.output<typeof featureQualitySchema>;
type RatioStudyResult = z.output<typeof ratioStudySchema>;

/** The thresholds of a model: its config's `monitoring:` section with defaults, or all defaults. */
export function monitoringConfigOf(manifest: ModelManifest): MonitoringConfig {
  return manifest.datasetConfig.monitoring ?? defaultMonitoringConfig();
}

/**
 * Features left out of drift checks unless the config lists its own: those computed from the sale date alone
 * (the day number and the month index). Valuations are made after training by definition, so these sit outside
 * the training range always, and an alert on them would say nothing about the market.
 */
export function defaultDriftExclusions(manifest: ModelManifest): string[] {
  const saleDate = manifest.featureTransform.saleDate;
  if (!saleDate) return [];
  return manifest.featureTransform.features
    .filter((f) => (f.spec.op === 'days' && f.spec.column === saleDate) || (f.spec.op === 'month_index' && f.spec.date === saleDate))
    .map((f) => f.name);
}

/** The column whose groups are checked for horizontal equity: monitoring.accuracy.groupBy, else the first categorical. */
export function groupColumnOf(manifest: ModelManifest, cfg: MonitoringConfig): string | null {
  const columns = manifest.datasetConfig.dataset.columns;
  const groupColumn = cfg.accuracy.groupBy ?? Object.entries(columns).find(([, c]) => c.type === 'categorical')?.[0] ?? null;
  if (groupColumn !== null && !(groupColumn in columns)) {
    throw new AppraiseError(
      'INVALID_CONFIG',
      `monitoring.accuracy.groupBy names "${groupColumn}", which is not a column of the schema "${manifest.datasetConfig.name}"`,
    );
  }
  return groupColumn;
}

const shares = (counts: number[]) => {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
};
const worst = (a: CheckStatus, b: CheckStatus): CheckStatus => {
  const order: CheckStatus[] = ['insufficient', 'ok', 'warning', 'alert'];
  return order.indexOf(a) >= order.indexOf(b) ? a : b;
};
const level = (value: number, t: { warn: number; alert: number }): CheckStatus => (value >= t.alert ? 'alert' : value >= t.warn ? 'warning' : 'ok');
const fmt = (x: number, digits = 3) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(digits));

/**
 * Builds the monitoring report of one model over a window of its prediction log: data quality and drift of the
 * inputs against the manifest's reference histograms, drift of the estimates, the IAAO ratio study with vertical
 * and horizontal equity once sale prices are linked, and the alerts the thresholds raise. One pass over the log;
 * memory grows only with the number of sold predictions.
 */
export function buildMonitoringReport(input: {
  manifest: ModelManifest;
  summary: ModelSummary;
  log: PredictionLog;
  filter: Omit<PredictionFilter, 'modelId'>;
  config?: MonitoringConfig;
  now?: Date;
  /** Challengers scored in shadow on this window, compared by the caller (MonitoringService). */
  shadow?: ShadowComparison[];
}): MonitoringReport {
  const { manifest, summary, log } = input;
  const cfg = input.config ?? monitoringConfigOf(manifest);
  const t = manifest.featureTransform;
  const nF = t.features.length;
  const refByName = new Map(manifest.reference.map((r) => [r.feature, r]));
  const refs = t.features.map((f) => refByName.get(f.name) ?? null);
  const counts = refs.map((r) => new Float64Array(r ? r.counts.length : 0));
  const missing = new Float64Array(nF);
  const unseen = new Float64Array(nF);
  const groupColumn = groupColumnOf(manifest, cfg);

  // Estimates are compared in log space against the model's own out-of-fold estimates, binned at their deciles.
  const refEstimates = manifest.residualSample?.estimate.filter((e) => e > 0).map(Math.log) ?? [];
  const predEdges = refEstimates.length >= 20 ? decileEdges(refEstimates) : null;
  const predCounts = predEdges ? new Float64Array(predEdges.length + 1) : null;

  const sold = { estimate: [] as number[], price: [] as number[], low: [] as number[], high: [] as number[], group: [] as string[] };
  // The same counts per day, for drift and accuracy over time (merged into weeks when there are many days).
  const days = new Map<string, TimeBucket>();
  const labelFree = new LabelFreeAccumulator<TimeBucket>(manifest);
  let day = '';
  let bucket: TimeBucket | null = null;
  const n = log.scan({ ...input.filter, modelId: summary.id }, (row) => {
    const v = row.features;
    if (!bucket || !row.predictedAt.startsWith(day)) {
      day = row.predictedAt.slice(0, 10);
      bucket = days.get(day) ?? { start: day, n: 0, counts: counts.map((c) => new Float64Array(c.length)), sold: [], lfN: 0, lfSumSq: 0 };
      days.set(day, bucket);
    }
    bucket.n++;
    labelFree.add(v, bucket);
    const bucketCounts = bucket.counts;
    const rowUnseen = row.unseen;
    for (const u of rowUnseen) unseen[u]++;
    for (let f = 0; f < nF; f++) {
      const x = v[f];
      if (x !== x) {
        // NaN: missing, unless the input had a category the model never saw (counted above).
        if (rowUnseen.length === 0 || !rowUnseen.includes(f)) missing[f]++;
        continue;
      }
      const r = refs[f];
      if (!r) continue;
      const c = counts[f];
      const b = t.features[f].kind === 'categorical' ? (x >= 0 && x < c.length ? x : -1) : numericBin(r.edges, x);
      if (b < 0) continue;
      c[b]++;
      bucketCounts[f][b]++;
    }
    if (predCounts && predEdges && row.estimate > 0) predCounts[numericBin(predEdges, Math.log(row.estimate))]++;
    if (row.salePrice !== null) {
      bucket.sold.push(sold.price.length);
      sold.estimate.push(row.estimate);
      sold.price.push(row.salePrice);
      sold.low.push(row.intervalLow ?? NaN);
      sold.high.push(row.intervalHigh ?? NaN);
      if (groupColumn) {
        const g = row.input()[groupColumn];
        sold.group.push(g === null || g === undefined ? '(missing)' : String(g));
      }
    }
  });

  const alerts: MonitoringAlert[] = [];
  const enough = n >= cfg.drift.minRows;

  // Data quality: what the model could not read as it was trained to.
  const quality: FeatureQuality[] = t.features.map((f, i) => {
    const r = refs[i];
    const refTotal = r ? r.counts.reduce((a, b) => a + b, 0) + r.missing : 0;
    const referenceMissingShare = r && refTotal > 0 ? r.missing / refTotal : 0;
    const missingShare = n > 0 ? missing[i] / n : 0;
    const unseenShare = n > 0 ? unseen[i] / n : 0;
    const problemShare = Math.max(0, missingShare - referenceMissingShare) + unseenShare;
    const status = enough ? level(problemShare, cfg.quality.share) : 'insufficient';
    if (status === 'warning' || status === 'alert') {
      alerts.push({
        rule: 'quality.feature',
        severity: status,
        subject: f.name,
        message:
          `${f.name}: ${fmt(100 * problemShare, 2)} % of inputs the model cannot read as trained` +
          (unseenShare > 0 ? ` (${fmt(100 * unseenShare, 2)} % categories never seen in training)` : '') +
          (missingShare > referenceMissingShare ? ` (missing ${fmt(100 * missingShare, 2)} % vs ${fmt(100 * referenceMissingShare, 2)} % in training)` : ''),
        value: problemShare,
        threshold: status === 'alert' ? cfg.quality.share.alert : cfg.quality.share.warn,
      });
    }
    return { feature: f.name, missingShare, referenceMissingShare, unseenShare, problemShare, status };
  });

  // Drift per feature against the reference histograms.
  const excluded = new Set(cfg.drift.exclude ?? defaultDriftExclusions(manifest));
  const features: FeatureDrift[] = [];
  t.features.forEach((f, i) => {
    const r = refs[i];
    if (!r) return;
    const cur = [...counts[i]];
    const m = cur.reduce((a, b) => a + b, 0);
    const checked = !excluded.has(f.name);
    const p = m > 0 ? psi(r.counts, cur) : 0;
    const categorical = f.kind === 'categorical';
    const js = categorical && m > 0 ? jensenShannonDistance(r.counts, cur) : null;
    const ks = !categorical ? ksFromCounts(r.counts, cur) : null;
    const chi = categorical && m > 0 ? chiSquareTest(r.counts, cur) : null;
    let status: CheckStatus = 'insufficient';
    if (checked && m >= cfg.drift.minRows) {
      status = level(p, cfg.drift.psi);
      if (js !== null) status = worst(status, level(js, cfg.drift.jensenShannon));
      // Large but not significant: the sample is too small to tell a shift from noise (see monitoring.drift.pValue).
      const pValue = ks?.pValue ?? chi?.pValue ?? 1;
      if (pValue >= cfg.drift.pValue) status = 'ok';
      if (status === 'warning' || status === 'alert') {
        const byJs = js !== null && level(js, cfg.drift.jensenShannon) === status && level(p, cfg.drift.psi) !== status;
        alerts.push({
          rule: 'drift.feature',
          severity: status,
          subject: f.name,
          message: byJs
            ? `${f.name} drifted: Jensen–Shannon distance ${fmt(js)} (PSI ${fmt(p)})`
            : `${f.name} drifted: PSI ${fmt(p)}${ks ? `, KS ${fmt(ks.statistic)}` : ''}${js !== null ? `, Jensen–Shannon ${fmt(js)}` : ''}`,
          value: byJs ? js : p,
          threshold: byJs ? cfg.drift.jensenShannon[status === 'alert' ? 'alert' : 'warn'] : cfg.drift.psi[status === 'alert' ? 'alert' : 'warn'],
        });
      }
    } else if (!checked) status = 'ok';
    features.push({
      feature: f.name,
      kind: f.kind,
      checked,
      n: m,
      psi: p,
      ks,
      jensenShannon: js,
      chiSquare: chi,
      edges: r.edges,
      referenceShares: shares(r.counts),
      currentShares: shares(cur),
      status,
    });
  });
  const judged = features.filter((f) => f.checked && f.status !== 'insufficient');
  const driftedShare = judged.length ? judged.filter((f) => f.status === 'alert').length / judged.length : 0;
  const datasetDrift = judged.length > 0 && driftedShare > cfg.drift.datasetShare;
  if (datasetDrift) {
    alerts.push({
      rule: 'drift.dataset',
      severity: 'alert',
      subject: 'inputs',
      message: `${fmt(100 * driftedShare, 2)} % of the checked features drifted (more than ${fmt(100 * cfg.drift.datasetShare, 2)} %): the market this model learned has moved`,
      value: driftedShare,
      threshold: cfg.drift.datasetShare,
    });
  }

  let prediction: MonitoringReport['drift']['prediction'] = null;
  if (predEdges && predCounts) {
    const refCounts = binCounts(predEdges, refEstimates);
    const cur = [...predCounts];
    const p = psi(refCounts, cur);
    const status = enough ? level(p, cfg.drift.psi) : 'insufficient';
    prediction = { psi: p, ks: ksFromCounts(refCounts, cur), status };
    if (status === 'warning' || status === 'alert') {
      alerts.push({
        rule: 'drift.prediction',
        severity: status,
        subject: 'estimates',
        message: `the distribution of estimates moved from the model's out-of-fold estimates: PSI ${fmt(p)}`,
        value: p,
        threshold: cfg.drift.psi[status === 'alert' ? 'alert' : 'warn'],
      });
    }
  }

  // Accuracy and equity once sale prices are linked.
  const a = cfg.accuracy;
  const study = (idx: number[] | null, subject: string, rulePrefix: string, label: string): RatioStudyResult => {
    const pick = <T>(xs: T[]) => (idx ? idx.map((i) => xs[i]) : xs);
    const r = ratioStudy(pick(sold.estimate), pick(sold.price), { low: pick(sold.low), high: pick(sold.high) });
    if (r.n < a.minSales) return { ...r, status: 'insufficient' };
    let status: CheckStatus = 'ok';
    const raise = (rule: string, severity: 'warning' | 'alert', message: string, value: number, threshold: number) => {
      status = worst(status, severity);
      alerts.push({ rule: `${rulePrefix}.${rule}`, severity, subject, message: `${label}: ${message}`, value, threshold });
    };
    if (r.medianRatio < a.medianRatio.low || r.medianRatio > a.medianRatio.high) {
      const over = r.medianRatio > a.medianRatio.high;
      raise(
        'medianRatio',
        'alert',
        `median ratio ${fmt(r.medianRatio)} is outside ${a.medianRatio.low}–${a.medianRatio.high} (${over ? 'over' : 'under'}-valued by ${fmt(100 * Math.abs(r.medianRatio - 1), 2)} %)`,
        r.medianRatio,
        over ? a.medianRatio.high : a.medianRatio.low,
      );
    }
    // COD is a standard for a whole class of property (or a neighbourhood), not for a slice cut by price itself:
    // price tiers are judged by their median ratio, and vertical equity overall by PRD and PRB.
    if (rulePrefix !== 'equity.priceTier' && r.cod > a.codMax) raise('cod', 'alert', `COD ${fmt(r.cod)} is above ${a.codMax}`, r.cod, a.codMax);
    if (rulePrefix === 'accuracy') {
      // PRD and PRB measure vertical equity across the whole price range: meaningful for the overall study only.
      // The alert follows PRB, which IAAO (2013) prefers to PRD: PRD is biased upward in small samples and swayed
      // by a few expensive sales. PRD is reported beside it, against its own band, and named in the message.
      const prdOut = r.prd < a.prd.low || r.prd > a.prd.high;
      if (r.prb !== null && r.prbLow !== null && r.prbHigh !== null && Math.abs(r.prb) > a.prbMax && (r.prbLow > 0 || r.prbHigh < 0)) {
        raise(
          'prb',
          'warning',
          `PRB ${fmt(r.prb)} is outside ±${a.prbMax} (${r.prb < 0 ? 'cheaper homes over-valued relative to dearer ones' : 'dearer homes over-valued relative to cheaper ones'}; PRD ${fmt(r.prd)}${prdOut ? `, also outside ${a.prd.low}–${a.prd.high}` : ''})`,
          r.prb,
          a.prbMax,
        );
      }
    }
    return { ...r, status };
  };
  const accuracy = sold.price.length ? study(null, summary.id, 'accuracy', 'accuracy on sold properties') : null;
  const priceTierRows: MonitoringReport['equity']['priceTiers'] = [];
  let groupBy: MonitoringReport['equity']['groupBy'] = null;
  if (sold.price.length) {
    // Tiers are cut on a value proxy halfway between sale price and (level-corrected) estimate, as PRB uses, not
    // on the sale price alone: sorting by sale price puts every sale that happened to sell high in the top tier,
    // so the top tier looks under-valued and the bottom one over-valued even for an unbiased model (IAAO 2013
    // warns against stratifying by sale price for this reason).
    const overall = accuracy?.medianRatio ?? 1;
    const proxy = sold.price.map((p, i) => 0.5 * (sold.estimate[i] / overall) + 0.5 * p);
    const { tierOf, bounds } = priceTiers(proxy, a.priceTiers);
    for (let tier = 0; tier < bounds.length; tier++) {
      const idx = [...tierOf.keys()].filter((i) => tierOf[i] === tier);
      if (!idx.length) continue;
      const name = `tier ${tier + 1} (${tier === 0 ? 'up to' : `${fmt(bounds[tier - 1], 6)} –`} ${fmt(bounds[tier], 6)})`;
      priceTierRows.push({ group: name, ...study(idx, `price ${name}`, 'equity.priceTier', `value ${name}`) });
    }
    if (groupColumn) {
      const byGroup = new Map<string, number[]>();
      sold.group.forEach((g, i) => {
        const list = byGroup.get(g);
        if (list) list.push(i);
        else byGroup.set(g, [i]);
      });
      const groups = [...byGroup.entries()]
        .sort((x, y) => y[1].length - x[1].length || (x[0] < y[0] ? -1 : 1))
        .map(([g, idx]) => ({ group: g, ...study(idx, `${groupColumn} ${g}`, 'equity.group', `${groupColumn} ${g}`) }));
      // Treated differently from the rest: a group's median ratio away from the overall one, even when the overall
      // level is off as well (then every group fails the absolute band, and this says which group differs).
      if (accuracy && accuracy.n >= a.minSales) {
        for (const g of groups) {
          if (g.n < a.minSales) continue;
          const deviation = g.medianRatio / accuracy.medianRatio - 1;
          if (Math.abs(deviation) <= cfg.equity.maxDeviation) continue;
          g.status = 'alert';
          alerts.push({
            rule: 'equity.deviation',
            severity: 'alert',
            subject: `${groupColumn} ${g.group}`,
            message:
              `${groupColumn} ${g.group}: valued ${fmt(100 * Math.abs(deviation), 2)} % ${deviation > 0 ? 'higher' : 'lower'} relative to sale prices than the rest ` +
              `(median ratio ${fmt(g.medianRatio)} vs ${fmt(accuracy.medianRatio)} overall, ${g.n} sales): review this group for unequal treatment`,
            value: deviation,
            threshold: deviation > 0 ? cfg.equity.maxDeviation : -cfg.equity.maxDeviation,
          });
        }
      }
      groupBy = { column: groupColumn, groups };
    }
  }

  // Accuracy before prices: the loss estimator over the window, checked against the model's held-out error.
  const lf = labelFree.finish(sold, predEdges && predCounts ? { edges: predEdges, counts: predCounts } : null);
  let lfStatus: CheckStatus = 'insufficient';
  if (lf.estimated && lf.reference && n >= cfg.drift.minRows) {
    const rise = lf.estimated.rmseLog / lf.reference.rmseLog - 1;
    const riseLow = lf.estimated.rmseLow / lf.reference.rmseLog - 1;
    const lt = cfg.labelFree.increase;
    // The band's low end must be above the held-out level too: a small window's estimate alone is noisy.
    lfStatus = riseLow > 0 ? level(rise, lt) : 'ok';
    if (lfStatus === 'warning' || lfStatus === 'alert') {
      alerts.push({
        rule: 'labelFree.rmse',
        severity: lfStatus,
        subject: 'estimated accuracy',
        message:
          `before any sale price: estimated error (RMSE of log price) ${fmt(lf.estimated.rmseLog)} (95 % band ${fmt(lf.estimated.rmseLow)}–${fmt(lf.estimated.rmseHigh)}), ` +
          `${fmt(100 * rise, 2)} % above the ${fmt(lf.reference.rmseLog)} this model had on held-out sales (estimated MdAPE ${fmt(100 * lf.estimated.mdape, 2)} %): ` +
          'valuations have moved toward properties the model knows less well',
        value: rise,
        threshold: lfStatus === 'alert' ? lt.alert : lt.warn,
      });
    }
  } else if (lf.unavailable) lfStatus = 'ok';
  for (const [b, k] of labelFree.perKey) {
    b.lfN = k.n;
    b.lfSumSq = k.sumSq;
  }

  const timeline = buildTimeline([...days.values()], {
    refs,
    excluded,
    names: t.features.map((f) => f.name),
    kinds: t.features.map((f) => f.kind),
    cfg,
    sold,
    lossReference: manifest.lossEstimator?.reference ?? null,
  });

  return {
    format: MONITORING_REPORT_FORMAT,
    generatedAt: (input.now ?? new Date()).toISOString(),
    model: { id: summary.id, name: summary.name, status: summary.status },
    window: { since: input.filter.since ?? null, until: input.filter.until ?? null },
    predictions: n,
    sold: sold.price.length,
    thresholds: cfg,
    quality,
    drift: { features, driftedShare, datasetDrift, prediction },
    timeline,
    accuracy,
    equity: { priceTiers: priceTierRows, groupBy },
    alerts: alerts.sort((x, y) => (x.severity === y.severity ? 0 : x.severity === 'alert' ? -1 : 1)),
    labelFree: { ...lf, status: lfStatus },
    shadow: input.shadow ?? [],
    // Filled in by MonitoringService from the review queue (it is not in the prediction log).
    review: null,
    // The market the model's valuations are adjusted by travels with its report (issue 15, the market page).
    market: manifest.market ?? null,
  };
}

interface TimeBucket {
  /** ISO date of the bucket's first day. */
  start: string;
  n: number;
  counts: Float64Array[];
  /** Indexes into the sold arrays. */
  sold: number[];
  /** Rows the loss estimator predicted and the sum of its squared-error predictions. */
  lfN: number;
  lfSumSq: number;
}

/** Monday of the ISO week of an ISO date. */
function weekStart(isoDay: string): string {
  const d = new Date(`${isoDay}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d.toISOString().slice(0, 10);
}

/** At most this many days are shown one by one; longer windows are shown by week. */
const MAX_DAILY_BUCKETS = 60;

function buildTimeline(
  dayBuckets: TimeBucket[],
  ctx: {
    refs: (ModelManifest['reference'][number] | null)[];
    excluded: Set<string>;
    names: string[];
    kinds: ('numeric' | 'categorical')[];
    cfg: MonitoringConfig;
    sold: { estimate: number[]; price: number[] };
    lossReference: { rmseLog: number; meanPredictedSquared: number } | null;
  },
): MonitoringReport['timeline'] {
  let buckets = dayBuckets.sort((a, b) => (a.start < b.start ? -1 : 1));
  if (buckets.length > MAX_DAILY_BUCKETS) {
    const weeks = new Map<string, TimeBucket>();
    for (const b of buckets) {
      const key = weekStart(b.start);
      const w = weeks.get(key);
      if (!w) weeks.set(key, { ...b, start: key, counts: b.counts.map((c) => Float64Array.from(c)), sold: [...b.sold] });
      else {
        w.n += b.n;
        b.counts.forEach((c, f) => c.forEach((x, i) => (w.counts[f][i] += x)));
        w.sold.push(...b.sold);
        w.lfN += b.lfN;
        w.lfSumSq += b.lfSumSq;
      }
    }
    buckets = [...weeks.values()];
  }
  const { cfg } = ctx;
  return buckets.map((b) => {
    let maxPsi: number | null = null;
    let maxPsiFeature: string | null = null;
    let drifted = 0;
    b.counts.forEach((cur, f) => {
      const r = ctx.refs[f];
      if (!r || ctx.excluded.has(ctx.names[f])) return;
      const m = cur.reduce((a, x) => a + x, 0);
      if (m < cfg.drift.minRows) return;
      const p = psi(r.counts, cur);
      const pValue = ctx.kinds[f] === 'categorical' ? chiSquareTest(r.counts, cur).pValue : ksFromCounts(r.counts, cur).pValue;
      // Only significant shifts count: a small day's PSI of a many-category feature is mostly sampling noise.
      const shown = pValue < cfg.drift.pValue ? p : 0;
      if (maxPsi === null || shown > maxPsi) {
        maxPsi = shown;
        maxPsiFeature = shown > 0 ? ctx.names[f] : null;
      }
      if (p >= cfg.drift.psi.alert && pValue < cfg.drift.pValue) drifted++;
    });
    const study = b.sold.length
      ? ratioStudy(
          b.sold.map((i) => ctx.sold.estimate[i]),
          b.sold.map((i) => ctx.sold.price[i]),
        )
      : null;
    return {
      start: b.start,
      predictions: b.n,
      sold: b.sold.length,
      maxPsi,
      maxPsiFeature,
      driftedFeatures: drifted,
      medianRatio: study?.medianRatio ?? null,
      cod: study?.cod ?? null,
      estimatedRmseLog:
        ctx.lossReference && b.lfN > 0 ? ctx.lossReference.rmseLog * Math.sqrt(b.lfSumSq / b.lfN / ctx.lossReference.meanPredictedSquared) : null,
    };
  });
}
