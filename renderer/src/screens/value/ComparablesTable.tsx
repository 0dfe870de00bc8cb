import { useMemo } from 'react';
import type { ChartConfiguration } from 'chart.js';
import type { ApiValuation, FormSchema } from '../../../../core/contract/contract.js';
import { featureLabel, fieldValueText } from '../../feature-format.js';
import { useMoney } from '../../app-context.js';
import { ChartCanvas, themeColors } from '../../components/ChartCanvas.js';
import { fmtPct } from '../../format.js';

/** The comparable sales found for the property, and a map of them around it when they have coordinates. */
export function ComparablesTable({ v, form }: { v: ApiValuation; form: FormSchema }) {
  const money = useMoney();
  const hasGeo = v.comparables.some((c) => c.latitude !== null && c.longitude !== null);
  const subject = useMemo(() => {
    const entries = Object.entries(v.input);
    const lat = entries.find(([k]) => /^lat(itude)?$/i.test(k))?.[1];
    const lon = entries.find(([k]) => /^(long|lon|lng|longitude)$/i.test(k))?.[1];
    return typeof lat === 'number' && typeof lon === 'number' ? { x: lon, y: lat } : null;
  }, [v]);
  const config = useMemo<ChartConfiguration>(() => {
    const c = themeColors();
    return {
      type: 'scatter',
      data: {
        datasets: [
          {
            label: 'Comparable sales',
            data: v.comparables.filter((s) => s.latitude !== null).map((s) => ({ x: s.longitude!, y: s.latitude! })),
            backgroundColor: c.accent,
            pointRadius: 6,
          },
          ...(subject ? [{ label: 'This property', data: [subject], backgroundColor: c.bad, pointStyle: 'rectRot' as const, pointRadius: 9 }] : []),
        ],
      },
      options: { scales: { x: { title: { display: true, text: 'Longitude' } }, y: { title: { display: true, text: 'Latitude' } } } },
    };
  }, [v, subject]);
  if (v.comparables.length === 0) return <p className="muted">No comparable sales were found.</p>;
  // With the grid's two columns, three attributes still fit the result column.
  const graded = v.comparables.some((c) => 'adjustedPrice' in c);
  const attrs = Object.keys(v.comparables[0].attributes).slice(0, graded ? 3 : 4);
  return (
    <div className="comparables">
      <div className="scroll">
        <table data-testid="comparables">
          <thead>
            <tr>
              <th>Sale date</th>
              <th className="num">Price</th>
              {graded && <th className="num">Adjusted price</th>}
              {graded && <th className="num">Net / gross adj.</th>}
              <th className="num">Distance</th>
              {attrs.map((a) => (
                <th key={a}>{featureLabel(form, a)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {v.comparables.map((c) => (
              <tr key={c.rowIndex}>
                <td>{c.saleDate ?? '—'}</td>
                <td className="num">{money.format(c.price)}</td>
                {graded && <td className="num">{'adjustedPrice' in c ? money.format(c.adjustedPrice) : '—'}</td>}
                {graded && (
                  <td
                    className={'flags' in c && (c.flags.net || c.flags.gross) ? 'num warn' : 'num'}
                    title="Adjustments from the model, as a share of the sale price; flagged beyond 15 % net or 25 % gross"
                  >
                    {'netPct' in c ? `${fmtPct(c.netPct, 0)} / ${fmtPct(c.grossPct, 0)}` : '—'}
                  </td>
                )}
                <td className="num">{c.distanceKm === null ? '—' : `${c.distanceKm.toFixed(2)} km`}</td>
                {attrs.map((a) => (
                  <td key={a}>
                    {fieldValueText(
                      form.fields.find((f) => f.name === a),
                      c.attributes[a],
                    )}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {hasGeo && <ChartCanvas config={config} label="Map of comparable sales by latitude and longitude" height={240} />}
    </div>
  );
}
