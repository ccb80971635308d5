// bench:sfu's plots, from its raw points (also used to redraw them from committed results).
import { lineChart, type Chart, type Series } from '../common/svg-chart.js';
import type { PointResult } from './scenario.js';

export const TARGET_PPS_PER_CORE = 100_000;

/** Each group's targets, its baseline (dashed) last. */
const TARGETS: Record<PointResult['group'], string[]> = {
  broadcast: ['platform', 'bare'],
  'all-to-all': ['platform', 'bare'],
  spread: ['platform', 'bare'],
  'cross-node': ['cross-node', 'same-node'],
};

export function sfuPlots(results: PointResult[]): Record<string, Chart> {
  const series = (metric: (r: PointResult) => number): Series[] => {
    const out: Series[] = [];
    for (const [group, targets] of Object.entries(TARGETS)) {
      for (const target of targets) {
        const points = results.filter((r) => r.group === group && r.target === target).map((r): [number, number] => [r.consumers, metric(r)]);
        const name = group === 'cross-node' ? `1→N ${target === 'same-node' ? 'on one node' : 'across two nodes'}` : `${target} ${group}`;
        if (points.length > 0) out.push({ name, points, dashed: target === targets.at(-1) });
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
