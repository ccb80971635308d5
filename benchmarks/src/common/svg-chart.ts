// Line charts as Vega-Lite specifications (data included); writeResults renders them to SVG with
// vega + vega-lite in Node (render-charts.ts: no browser, no native canvas).
import type { TopLevelSpec } from 'vega-lite';

export interface Series {
  name: string;
  points: [number, number][];
  /** Drawn dashed: targets, baselines. */
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Fixed y range; by default from 0 to the largest value. */
  yMin?: number;
  yMax?: number;
  width?: number;
  height?: number;
}

/** A chart ready to render: a Vega-Lite spec. */
export type Chart = TopLevelSpec;

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const SOLID: number[] = [1, 0];
const DASHED = [6, 4];

export function lineChart(options: ChartOptions): Chart {
  const names = options.series.map((s) => s.name);
  const values = options.series.flatMap((s) => [...s.points].sort((a, b) => a[0] - b[0]).map(([x, y], order) => ({ series: s.name, x, y, order })));
  // One legend for colour and dash: both scales map the series names.
  const series = {
    field: 'series',
    type: 'nominal',
    sort: names,
    legend: { title: null, orient: 'bottom', columns: 2, labelLimit: 0, symbolType: 'stroke', symbolStrokeWidth: 2 },
  } as const;
  const y =
    options.yMin !== undefined || options.yMax !== undefined
      ? { domain: [options.yMin ?? 0, options.yMax ?? Math.max(...values.map((v) => v.y))] }
      : { zero: true };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title,
    width: options.width ?? 560,
    height: options.height ?? 280,
    background: '#ffffff',
    data: { values },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: options.xLabel },
      y: { field: 'y', type: 'quantitative', title: options.yLabel, scale: y },
      color: { ...series, scale: { domain: names, range: names.map((_, i) => COLOURS[i % COLOURS.length] ?? '#000') } },
      strokeDash: { ...series, scale: { domain: names, range: options.series.map((s) => (s.dashed ? DASHED : SOLID)) } },
      order: { field: 'order', type: 'quantitative' },
      tooltip: [{ field: 'series' }, { field: 'x', type: 'quantitative' }, { field: 'y', type: 'quantitative' }],
    },
    layer: [{ mark: { type: 'line', strokeWidth: 2, clip: true } }, { mark: { type: 'point', filled: true, size: 30, clip: true } }],
  };
}
