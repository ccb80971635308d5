// `node benchmarks/dist/replot.js`: redraws the plots of the committed results from their JSON,
// with the same plot code the benchmarks use (bench:join's plots are drawn in join/main.ts and
// redrawn by its next run).
import fs from 'node:fs';
import path from 'node:path';
import { apiPlots, type EndpointResult } from './api/report.js';
import { log, RESULTS_DIR, resultsName, writePlots, type RunInfo } from './common/results.js';
import type { Chart } from './common/svg-chart.js';
import { sfuPlots } from './sfu/plots.js';
import type { PointResult } from './sfu/scenario.js';
import { signalingPlots, type IdleSeries, type ThroughputPoint } from './signaling/plots.js';

const redraw: Record<string, (results: never) => Record<string, Chart>> = {
  sfu: (r: { points: PointResult[] }) => sfuPlots(r.points),
  signaling: (r: { throughput: ThroughputPoint[]; idle: IdleSeries[] }) => signalingPlots(r.throughput, r.idle),
  api: (r: { endpoints: EndpointResult[] }) => apiPlots(r.endpoints),
};

// Every committed run of those benchmarks: the full one, the quick one and any `--variant`.
for (const file of fs.readdirSync(RESULTS_DIR).filter((f) => f.endsWith('.json'))) {
  const { run, results } = JSON.parse(fs.readFileSync(path.join(RESULTS_DIR, file), 'utf8')) as { run?: RunInfo; results: never };
  const plots = run ? redraw[run.benchmark] : undefined;
  if (!run || !plots) continue;
  const name = resultsName(run);
  log(`${name}: ${writePlots(name, plots(results)).join(', ')}`);
}
