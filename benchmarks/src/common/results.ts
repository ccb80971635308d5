import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from './args.js';
import { loadAverage, machineInfo, ROOT, type MachineInfo } from './machine.js';
import { renderCharts } from './render-charts.js';
import type { Chart } from './svg-chart.js';

export const RESULTS_DIR = path.join(ROOT, 'benchmarks', 'results');

/** One benchmark run: when, where, how it was started, and the machine's load around it. */
export interface RunInfo {
  benchmark: string;
  command: string;
  quick: boolean;
  /** `--variant NAME`: a run under other settings than the committed one, written as `<name>-NAME.*`. */
  variant?: string;
  /** Settings of the C library and Node's runtime given to every process the run starts, when set. */
  environment: Record<string, string>;
  startedAt: string;
  finishedAt?: string;
  machine: MachineInfo;
  loadAverageStart: [number, number, number];
  loadAverageEnd?: [number, number, number];
}

/** Variables that change what a memory or CPU figure measures; recorded with every run that sets them. */
const RUNTIME_VARIABLES = ['MALLOC_ARENA_MAX', 'MALLOC_TRIM_THRESHOLD_', 'MALLOC_MMAP_THRESHOLD_', 'NODE_OPTIONS', 'UV_THREADPOOL_SIZE'];

/** `options.variant`: the variant a run is when its command line names none (a mode of the benchmark with results of its own). */
export function startRun(benchmark: string, options: { variant?: string } = {}): RunInfo {
  const args = process.argv.slice(2).join(' ');
  const variant = parseArgs().get('variant') ?? options.variant;
  // A bare `--variant` parses as 'true'; 'quick' would overwrite the quick run's files.
  if (variant !== undefined && (!/^[a-z0-9][a-z0-9-]*$/.test(variant) || variant === 'quick' || variant === 'true'))
    throw new Error(`--variant takes a name of lowercase letters, digits and dashes (not 'quick'): ${variant}`);
  const environment = Object.fromEntries(RUNTIME_VARIABLES.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])));
  const setVariables = Object.entries(environment)
    .map(([name, value]) => `${name}=${/\s/.test(value) ? `'${value}'` : value} `)
    .join('');
  return {
    benchmark,
    command: `${setVariables}npm run bench:${benchmark}${args ? ` -- ${args}` : ''}`,
    quick: process.argv.includes('--quick'),
    variant,
    environment,
    startedAt: new Date().toISOString(),
    machine: machineInfo(),
    loadAverageStart: loadAverage(),
  };
}

/** A Markdown table from rows of cells. */
export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]): string => `| ${cells.map(String).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function machineMarkdown(run: RunInfo): string {
  const m = run.machine;
  return [
    `- Command: \`${run.command}\``,
    `- Started ${run.startedAt}, finished ${run.finishedAt ?? '?'}`,
    `- Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}; mediasoup ${m.mediasoup}`,
    `- Commit measured: \`${m.commit}\`${m.dirtyFiles.length ? ` plus uncommitted changes in ${m.dirtyFiles.length} files (${m.dirtyFiles.slice(0, 12).join(', ')}${m.dirtyFiles.length > 12 ? ', …' : ''})` : ' (clean tree)'}`,
    `- Load average (1/5/15 min) at start: ${run.loadAverageStart.join(' / ')}; at end: ${run.loadAverageEnd?.join(' / ') ?? '?'} (the machine is shared: compare ratios against the in-run baseline)`,
  ].join('\n');
}

/** The results' base name: a quick run or a variant writes `<name>-quick.*` or `<name>-<variant>.*`, never the full run's files. */
export const resultsName = (run: Pick<RunInfo, 'benchmark' | 'quick' | 'variant'>): string =>
  [run.benchmark, ...(run.variant ? [run.variant] : []), ...(run.quick ? ['quick'] : [])].join('-');

/** Renders the plots and writes them as `<name>-<plot>.svg`; returns the file names. */
export function writePlots(name: string, plots: Record<string, Chart>): string[] {
  const svgs = renderCharts(plots);
  return Object.entries(svgs).map(([plot, svg]) => {
    const file = `${name}-${plot}.svg`;
    fs.writeFileSync(path.join(RESULTS_DIR, file), svg);
    return file;
  });
}

/**
 * Writes `<name>.json` (raw), `<name>.md` (summary) and the SVG plots under benchmarks/results/.
 * A quick run or a variant writes `<name>-quick.*` or `<name>-<variant>.*`, so it never overwrites a full run's committed results.
 */
export function writeResults(run: RunInfo, output: { raw: unknown; summary: string; plots: Record<string, Chart> }): void {
  run.finishedAt = new Date().toISOString();
  run.loadAverageEnd = loadAverage();
  const name = resultsName(run);
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(path.join(RESULTS_DIR, `${name}.json`), `${JSON.stringify({ run, results: output.raw }, null, 2)}\n`);
  const plotLinks = writePlots(name, output.plots).map((file) => `![${file.slice(name.length + 1, -4)}](${file})`);
  const markdown = [
    `# bench:${run.benchmark}${run.variant ? ` (variant ${run.variant})` : ''}${run.quick ? ' (quick)' : ''}`,
    '',
    machineMarkdown(run),
    '',
    output.summary,
    '',
    ...plotLinks,
    '',
  ].join('\n');
  fs.writeFileSync(path.join(RESULTS_DIR, `${name}.md`), markdown);
  console.log(`\nresults: benchmarks/results/${name}.{json,md}${plotLinks.length ? ` and ${Object.keys(output.plots).length} plot(s)` : ''}`);
}

export function log(message: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}
