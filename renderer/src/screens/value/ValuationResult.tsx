import type { ApiValuation, FormSchema } from '../../../../core/contract/contract.js';
import { useMoney } from '../../app-context.js';
import { shortId, type MoneyFormatter } from '../../format.js';
import { roundEstimate } from '../../feature-format.js';
import { ComparablesTable } from './ComparablesTable.js';
import { ReasonsChart } from './ReasonsChart.js';

type Interval = ApiValuation['interval'];

/** One valuation: the estimate and its ranges, warnings, the main reasons and the comparable sales. */
export function ValuationResult({
  v,
  form,
  onSave,
  onPdf,
  modelName,
  roundTo,
}: {
  v: ApiValuation;
  form: FormSchema;
  onSave: () => void;
  onPdf: () => void;
  modelName: string | null;
  /** The report settings' rounding step; null: the config's. */
  roundTo?: number | null;
}) {
  const money = useMoney();
  // Shown as appraisers report values (nearest $1,000 unless the config or the report settings say otherwise);
  // data-value keeps the model's.
  const round = (n: number) => roundEstimate(n, roundTo ? { roundTo } : form);
  const sortedIntervals = [...v.intervals].sort((a, b) => a.level - b.level);
  const narrow = sortedIntervals[0] ?? v.interval;
  const wide = sortedIntervals[sortedIntervals.length - 1] ?? v.interval;
  return (
    <div className="card result" data-testid="valuation-result">
      <div className="estimate-row">
        <div>
          <div className="muted">Estimated value{v.valuationDate ? ` on ${v.valuationDate}` : ''}</div>
          <div className="estimate" data-testid="estimate" data-value={v.estimate} data-rounded={round(v.estimate)}>
            {money.format(round(v.estimate))}
          </div>
          {sortedIntervals.map((iv) => (
            <div key={iv.level} data-testid={`interval-${Math.round(iv.level * 100)}`} data-low={iv.low} data-high={iv.high}>
              {Math.round(iv.level * 100)} % range: {money.format(round(iv.low))} – {money.format(round(iv.high))}
            </div>
          ))}
          {v.fsd !== null && v.fsd !== undefined && (
            <div
              data-testid="confidence"
              data-fsd={v.fsd}
              data-tier={v.confidenceTier ?? ''}
              title="Forecast standard deviation: the standard deviation of estimate / sale price on held-out sales of properties like this one. High: up to 13 %, Medium: up to 20 %, Low: above 20 %."
            >
              Confidence: <strong>{v.confidenceTier ?? '–'}</strong> (FSD {(v.fsd * 100).toFixed(1)} %)
            </div>
          )}
        </div>
        <div className="actions vertical">
          <button onClick={onSave}>Save to history</button>
          <button className="secondary" onClick={onPdf} data-testid="export-pdf">
            Export PDF report
          </button>
        </div>
      </div>
      <RangeBand estimate={v.estimate} narrow={narrow} wide={wide} money={money} round={round} />
      <p className="muted small">
        Model {modelName ?? ''} <code data-testid="model-used">{shortId(v.modelId)}</code>. The ranges are calibrated on sales the model did not see:{' '}
        {Math.round(narrow.level * 100)} % of such estimates were within the inner band.
      </p>
      {v.warnings.length > 0 && (
        <ul className="warnings" aria-label="Warnings">
          {v.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
      <h2>Main reasons</h2>
      <ReasonsChart v={v} form={form} />
      <h2>Comparable sales</h2>
      <ComparablesTable v={v} form={form} />
    </div>
  );
}

/** The inner and outer ranges drawn to scale, the estimate as a tick. */
function RangeBand({
  estimate,
  narrow,
  wide,
  money,
  round,
}: {
  estimate: number;
  narrow: Interval;
  wide: Interval;
  money: MoneyFormatter;
  /** Labels as the estimate is shown (rounded); the drawing uses the exact figures. */
  round: (n: number) => number;
}) {
  const lo = wide.low - (wide.high - wide.low) * 0.05;
  const hi = wide.high + (wide.high - wide.low) * 0.05;
  const x = (v: number) => `${((v - lo) / (hi - lo)) * 100}%`;
  return (
    <div className="band-wrap">
      <svg
        className="band"
        viewBox="0 0 100 32"
        preserveAspectRatio="none"
        role="img"
        aria-label={`Range: ${money.format(round(wide.low))} to ${money.format(round(wide.high))}, estimate ${money.format(round(estimate))}`}
        width="100%"
        height="40"
      >
        <rect x={x(wide.low)} y="8" width={`${((wide.high - wide.low) / (hi - lo)) * 100}%`} height="16" className="band-wide" />
        <rect x={x(narrow.low)} y="8" width={`${((narrow.high - narrow.low) / (hi - lo)) * 100}%`} height="16" className="band-narrow" />
        <rect x={x(estimate)} y="2" width="0.6%" height="28" className="band-estimate" />
      </svg>
      <div className="band-legend muted small">
        <span>{money.format(round(wide.low))}</span>
        <span>
          inner band {Math.round(narrow.level * 100)} %, outer {Math.round(wide.level * 100)} %
        </span>
        <span>{money.format(round(wide.high))}</span>
      </div>
    </div>
  );
}
