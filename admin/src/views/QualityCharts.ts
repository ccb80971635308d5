// Per-track quality over time: one uPlot chart per metric, one line per track and side
// (server = the SFU's view, client = the browser's getStats()).
import type { QualitySample } from '@telemed/sdk';
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { participantDirection } from '../format.js';

export interface Metric {
  key: string;
  label: string;
  value: (s: QualitySample) => number | null;
  /** A fixed y range (scores are 0–10). */
  range?: [number, number];
}

export const METRICS: readonly Metric[] = [
  { key: 'bitrate', label: 'Bitrate (kbit/s)', value: (s) => s.bitrateBps / 1000 },
  { key: 'loss', label: 'Packet loss (%)', value: (s) => (s.lossRatio === null ? null : s.lossRatio * 100) },
  { key: 'jitter', label: 'Jitter (ms)', value: (s) => s.jitterMs },
  { key: 'rtt', label: 'RTT (ms)', value: (s) => s.rttMs },
  { key: 'score', label: 'Score (0–10)', value: (s) => s.score, range: [0, 10] },
];

const COLORS = ['#0b6bcb', '#d1242f', '#1a7f37', '#b26a00', '#8250df', '#0a7ea4', '#bf3989', '#57606a'];

export function trackLabel(s: QualitySample, names: ReadonlyMap<string, string>): string {
  return `${names.get(s.identity) ?? s.identity.slice(0, 8)} ${s.kind} ${participantDirection(s)} (${s.source})`;
}

/** The charts show one participant's audio or video at a time: its send and receive sides, as the server and the browser saw them. */
export interface TrackGroup {
  key: string;
  label: string;
}

export const groupKey = (s: QualitySample): string => `${s.identity}|${s.kind}`;

export function trackGroups(samples: readonly QualitySample[], names: ReadonlyMap<string, string>): TrackGroup[] {
  const groups = new Map<string, TrackGroup>();
  for (const s of samples) {
    const key = groupKey(s);
    if (!groups.has(key)) groups.set(key, { key, label: `${names.get(s.identity) ?? s.identity.slice(0, 8)} · ${s.kind}` });
  }
  // Video before audio, then by name: the camera is what people look at first.
  return [...groups.values()].sort((a, b) => Number(b.key.endsWith('video')) - Number(a.key.endsWith('video')) || a.label.localeCompare(b.label));
}

const clock = (seconds: number): string => new Date(seconds * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** Aligns samples of every track on one time axis (seconds), with null gaps. */
export function alignSeries(
  samples: readonly QualitySample[],
  metric: Metric,
  names: ReadonlyMap<string, string>,
): { labels: string[]; data: uPlot.AlignedData } {
  const byTrack = new Map<string, Map<number, number | null>>();
  const labelsByKey = new Map<string, string>();
  const times = new Set<number>();
  for (const s of samples) {
    // Every line is listed even where this metric has no value, so a line keeps its colour in
    // every chart (the browser reports no loss or score, the server no jitter on what it sends).
    const key = `${s.trackId}|${s.source}|${s.direction}`;
    let series = byTrack.get(key);
    if (!series) {
      series = new Map();
      byTrack.set(key, series);
      labelsByKey.set(key, trackLabel(s, names));
    }
    const value = metric.value(s);
    if (value === null) continue;
    const t = Math.round(Date.parse(s.sampledAt) / 1000);
    series.set(t, value);
    times.add(t);
  }
  const xs = [...times].sort((a, b) => a - b);
  const keys = [...byTrack.keys()];
  const labels = keys.map((k) => labelsByKey.get(k) ?? k);
  return { labels, data: [xs, ...keys.map((k) => xs.map((t) => byTrack.get(k)?.get(t) ?? null))] };
}
export function QualityChart({ samples, metric, names }: { samples: readonly QualitySample[]; metric: Metric; names: ReadonlyMap<string, string> }) {
  const container = useRef<HTMLDivElement>(null);
  const { labels, data } = alignSeries(samples, metric, names);
  const points = data[0].length;

  useEffect(() => {
    const element = container.current;
    if (!element || points === 0) return;
    const width = Math.max(280, Math.min(element.clientWidth || 600, 900));
    const chart = new uPlot(
      {
        width,
        height: 200,
        title: metric.label,
        // Room on the right for the last time label.
        padding: [12, 36, 0, 0],
        scales: { x: { time: true }, ...(metric.range ? { y: { range: metric.range } } : {}) },
        series: [
          { value: (_u: uPlot, v: number | null) => (v === null ? '—' : clock(v)) },
          ...labels.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true })),
        ],
        // Whole seconds as wall-clock times: uPlot's own ticks split a short call into milliseconds.
        axes: [
          { space: 90, incrs: [1, 5, 10, 15, 30, 60, 300, 600, 900, 1800, 3600], values: (_u: uPlot, splits: number[]) => splits.map(clock) },
          { size: 50 },
        ],
        legend: { live: false },
      },
      data,
      element,
    );
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(280, Math.min(element.clientWidth, 900)), height: 200 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [samples, metric, names]);

  return html`
    <figure class="chart" data-metric=${metric.key} data-points=${points} aria-label=${`${metric.label} over time`}>
      ${
        points === 0
          ? html`<figcaption>${metric.label}: no samples</figcaption>`
          : html`<div ref=${container} role="img" aria-label=${`${metric.label} chart, ${labels.length} tracks, ${points} points`}></div>
            <${ChartData} metric=${metric} labels=${labels} data=${data} />`
      }
    </figure>`;
}

/** The chart's numbers as a table, for screen readers and for reading exact values; built only when opened. */
function ChartData({ metric, labels, data }: { metric: Metric; labels: string[]; data: uPlot.AlignedData }) {
  const [open, setOpen] = useState(false);
  const [times, ...lines] = data;
  return html`
    <details class="chart-data" onToggle=${(e: Event) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>${metric.label}: data table</summary>
      ${
        open &&
        html`<div class="table-scroll"><table class="compact">
          <thead><tr><th scope="col">Time</th>${labels.map((label) => html`<th scope="col">${label}</th>`)}</tr></thead>
          <tbody>${Array.from(
            times,
            (t, i) =>
              html`<tr key=${t} data-time=${t}><th scope="row">${clock(t)}</th>${lines.map((line) => {
                const value = line[i];
                return html`<td data-value=${value ?? ''}>${value === null || value === undefined ? '—' : formatValue(value)}</td>`;
              })}</tr>`,
          )}</tbody>
        </table></div>`
      }
    </details>`;
}

const formatValue = (value: number): string => (Number.isInteger(value) ? String(value) : value.toFixed(Math.abs(value) < 10 ? 2 : 1));
