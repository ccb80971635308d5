// Renders charts to SVG with vega + vega-lite, headless (no browser, no canvas: text is measured
// by vega's estimate). Run as a child process by renderCharts(), which writeResults calls from
// synchronous code: stdin is {name: spec}, stdout {name: svg}.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { Chart } from './svg-chart.js';

export async function renderSvg(chart: Chart): Promise<string> {
  const view = new vega.View(vega.parse(compile(chart).spec), { renderer: 'none' });
  try {
    return `${await view.toSVG()}\n`;
  } finally {
    view.finalize();
  }
}

/** Every chart rendered to SVG, synchronously (in a child process). */
export function renderCharts(charts: Record<string, Chart>): Record<string, string> {
  if (Object.keys(charts).length === 0) return {};
  const result = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], { input: JSON.stringify(charts), encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
  if (result.status !== 0) throw new Error(`rendering the charts failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, string>;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const charts = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, Chart>;
  const out: Record<string, string> = {};
  for (const [name, chart] of Object.entries(charts)) out[name] = await renderSvg(chart);
  process.stdout.write(JSON.stringify(out));
}
