// bench:sfu's plots, from its raw points (also used to redraw them from committed results).
import { lineChart, type Chart, type Series } from '../common/svg-chart.js';
import type { PointResult } from './scenario.js';

export const TARGET_PPS_PER_CORE = 100_000;

export function sfuPlots(results: PointResult[]): Record<string, Chart> {
  const series = (metric: (r: PointResult) => number): Series[] => {
    const out: Series[] = [];
    for (const group of ['broadcast', 'all-to-all', 'spread'] as const) {
      for (const target of ['platform', 'bare']) {
        const points = results.filter((r) => r.group === group && r.target === target).map((r): [number, number] => [r.consumers, metric(r)]);
        if (points.length > 0) out.push({ name: `${target} ${group}`, points, dashed: target === 'bare' });
      }
    }
    return out;
  };
  return {
    delivered: lineChart({
      title: 'Delivered ratio vs consumers',
      xLabel: 'consumers (tracks forwarded)',
      yLabel: 'delivered / expected packets',
      series: series((r) => r.deliveredRatio),
      yMin: 0,
      yMax: 1.05,
    }),
    cpu: lineChart({
      title: 'SFU worker CPU vs consumers',
      xLabel: 'consumers (tracks forwarded)',
      yLabel: 'mediasoup worker CPU (cores, all workers)',
      series: series((r) => r.sfuWorkerCpu),
    }),
    'pps-per-core': lineChart({
      title: 'Packets out per second per worker core',
      xLabel: 'consumers (tracks forwarded)',
      yLabel: 'out pkt/s ÷ worker CPU cores',
      series: [
        ...series((r) => r.outPpsPerWorkerCore),
        {
          name: 'target 100k',
          points: [
            [0, TARGET_PPS_PER_CORE],
            [Math.max(...results.map((r) => r.consumers)), TARGET_PPS_PER_CORE],
          ],
          dashed: true,
        },
      ],
    }),
  };
}
