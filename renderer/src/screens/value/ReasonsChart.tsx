import { useMemo } from 'react';
import type { ChartConfiguration } from 'chart.js';
import type { ApiValuation, FormSchema } from '../../../../core/contract/contract.js';
import { useMoney } from '../../app-context.js';
import { ChartCanvas, themeColors } from '../../components/ChartCanvas.js';
import { featureLabel, featureValueText } from '../../feature-format.js';

/** The ten features that moved the estimate most (SHAP contributions, in money), up in green, down in red. */
export function ReasonsChart({ v, form }: { v: ApiValuation; form: FormSchema }) {
  const money = useMoney();
  const config = useMemo<ChartConfiguration>(() => {
    const c = themeColors();
    const top = [...v.contributions].sort((a, b) => Math.abs(b.amount) - Math.abs(a.amount)).slice(0, 10);
    return {
      type: 'bar',
      data: {
        labels: top.map((t) => {
          const shown = t.displayValue ?? v.input[t.feature] ?? t.featureValue;
          // Labels and level names from the config: "County building grade = 7 — Average", not "grade = 7".
          return `${featureLabel(form, t.feature)}${shown === null || shown === undefined ? '' : ` = ${featureValueText(form, t.feature, shown)}`}`;
        }),
        datasets: [
          { label: `Contribution (${money.currency})`, data: top.map((t) => t.amount), backgroundColor: top.map((t) => (t.amount >= 0 ? c.good : c.bad)) },
        ],
      },
      options: {
        indexAxis: 'y',
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: (item) => money.signed(Number(item.raw)) } } },
        scales: { x: { ticks: { callback: (val) => money.format(Number(val)) } } },
      },
    };
  }, [v, form, money]);
  return <ChartCanvas config={config} label={`How much each feature moved the estimate, in ${money.currency}`} height={280} />;
}
