import { useEffect, useRef } from 'react';
import { Chart, registerables, type ChartConfiguration } from 'chart.js';

Chart.register(...registerables);

/** Colours from the current theme's CSS variables, so charts follow light/dark. */
export function themeColors() {
  const s = getComputedStyle(document.documentElement);
  const v = (name: string) => s.getPropertyValue(name).trim();
  return { text: v('--text'), muted: v('--muted'), grid: v('--border'), accent: v('--accent'), good: v('--good'), bad: v('--bad'), band: v('--band') };
}

/**
 * One chart.js chart on a canvas. The chart is rebuilt when `config` changes identity (callers memoize it);
 * `update` mutates the live chart instead (for streaming progress) and is called on every render.
 */
export function ChartCanvas({
  config,
  label,
  height = 260,
  update,
}: {
  config: ChartConfiguration;
  label: string;
  height?: number;
  update?: (c: Chart) => void;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart | null>(null);
  useEffect(() => {
    const c = themeColors();
    Chart.defaults.color = c.text;
    Chart.defaults.borderColor = c.grid;
    chart.current = new Chart(canvas.current!, { ...config, options: { animation: false, responsive: true, maintainAspectRatio: false, ...config.options } });
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
  }, [config]);
  useEffect(() => {
    if (chart.current && update) {
      update(chart.current);
      chart.current.update('none');
    }
  });
  return (
    <div className="chart" style={{ height }}>
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}
