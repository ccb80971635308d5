// `node benchmarks/dist/replot.js`: redraws the plots of the committed results from their JSON,
// with the same plot code the benchmarks use (bench:join's plots are drawn in join/main.ts and
// redrawn by its next run).
import fs from 'node:fs';
import path from 'node:path';
import { apiPlots, type EndpointResult } from './api/report.js';
import { log, RESULTS_DIR, writePlots } from './common/results.js';
import type { Chart } from './common/svg-chart.js';
import { sfuPlots } from './sfu/plots.js';
import type { PointResult } from './sfu/scenario.js';
import { signalingPlots, type IdleSeries, type ThroughputPoint } from './signaling/plots.js';

const redraw: Record<string, (results: never) => Record<string, Chart>> = {
  sfu: (r: { points: PointResult[] }) => sfuPlots(r.points),
  signaling: (r: { throughput: ThroughputPoint[]; idle: IdleSeries[] }) => signalingPlots(r.throughput, r.idle),
  api: (r: { endpoints: EndpointResult[] }) => apiPlots(r.endpoints),
};

for (const [benchmark, plots] of Object.entries(redraw)) {
  for (const name of [benchmark, `${benchmark}-quick`]) {
    const file = path.join(RESULTS_DIR, `${name}.json`);
    if (!fs.existsSync(file)) continue;
    const { results } = JSON.parse(fs.readFileSync(file, 'utf8')) as { results: never };
    log(`${name}: ${writePlots(name, plots(results)).join(', ')}`);
  }
}
