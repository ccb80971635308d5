// bench:signaling's plots, from its raw results (also used to redraw them from committed results).
import { lineChart, type Chart } from '../common/svg-chart.js';

export interface ThroughputPoint {
  target: string;
  concurrency: number;
  joinsPerSecond: number;
}

export interface IdleSeries {
  target: string;
  steps: { participants: number; rssMiB: number }[];
}

export function signalingPlots(tp: ThroughputPoint[], idle: IdleSeries[]): Record<string, Chart> {
  return {
    'joins-per-second': lineChart({
      title: 'Joins per second vs concurrent joining clients',
      xLabel: 'concurrent clients',
      yLabel: 'completed joins per second',
      series: ['platform', 'bare'].map((t) => ({
        name: t,
        dashed: t === 'bare',
        points: tp.filter((r) => r.target === t).map((r): [number, number] => [r.concurrency, r.joinsPerSecond]),
      })),
    }),
    memory: lineChart({
      title: 'Server memory vs idle participants',
      xLabel: 'idle participants',
      yLabel: 'RSS of server + workers (MiB)',
      series: idle.map((r) => ({ name: r.target, dashed: r.target === 'bare', points: r.steps.map((s): [number, number] => [s.participants, s.rssMiB]) })),
    }),
  };
}
