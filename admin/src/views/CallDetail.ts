// One call: participants, a timeline, and per-track quality charts from server and client samples.
import type { Call, CallRecording, CallTimelineEntry, QualitySample } from '@telemed/sdk';
import { html } from 'htm/preact';
import { useMemo, useState } from 'preact/hooks';
import type { AdminBackend } from '../backend.js';
import { downloadFile, toCsv } from '../csv.js';
import { formatDateTime, formatDuration, formatNumber } from '../format.js';
import { SAMPLE_CSV } from './columns.js';
import { groupKey, METRICS, QualityChart, trackGroups } from './QualityCharts.js';
import { describeTimeline } from './call-timeline.js';
import { usePolling } from './usePolling.js';

interface Detail {
  call: Call;
  samples: QualitySample[];
  timeline: CallTimelineEntry[];
  recordings: CallRecording[];
}

export function CallDetail({ backend, callId }: { backend: AdminBackend; callId: string }) {
  const polled = usePolling(
    async (): Promise<Detail> => {
      const [call, samples, timeline, recordings] = await Promise.all([
        backend.call(callId),
        backend.quality(callId),
        backend.timeline(callId),
        backend.recordings(callId),
      ]);
      return { call, samples, timeline, recordings };
    },
    5000,
    [backend, callId],
  );
  const call = polled.data?.call;
  const samples = polled.data?.samples ?? [];
  const names = useMemo(() => new Map((call?.participants ?? []).map((p) => [p.userId, p.displayName])), [call]);
  const summary = call?.qualitySummary;
  const groups = useMemo(() => trackGroups(samples, names), [samples, names]);
  const [picked, setPicked] = useState<string | undefined>();
  const group = groups.find((g) => g.key === picked) ?? groups[0];
  const shown = useMemo(() => (group ? samples.filter((s) => groupKey(s) === group.key) : []), [samples, group?.key]);

  return html`
    <main class="detail" data-testid="call-detail">
      <div class="toolbar-row">
        <a href="#/" class="back" aria-label="Back to dashboard">←</a>
        <h2>Call ${callId.slice(0, 8)}</h2>
        ${call && html`<span class=${`status status-${call.status}`} data-testid="detail-status">${call.status}</span>`}
        <span class="updated">${polled.error ? html`<span class="error" role="alert">${polled.error}</span>` : polled.updatedAt ? `Updated ${polled.updatedAt.toLocaleTimeString()}` : 'Loading…'}</span>
        <button type="button" onClick=${polled.refresh} aria-label="Refresh call">↻ Refresh</button>
        <button type="button" id="export-call-quality" disabled=${samples.length === 0}
          onClick=${() =>
            downloadFile(
              `telemed-call-${callId}-quality.csv`,
              toCsv(
                samples.map((s) => ({ ...s, callId })),
                SAMPLE_CSV,
              ),
            )}>⤓ Export quality CSV</button>
      </div>
      ${
        call &&
        html`
        <div class="detail-grid">
          <section class="panel" aria-labelledby="summary-title">
            <h3 id="summary-title">Summary</h3>
            <dl class="facts">
              <dt>Type</dt><dd>${call.type}</dd>
              <dt>Started</dt><dd>${formatDateTime(call.startedAt)}</dd>
              <dt>Ended</dt><dd>${formatDateTime(call.endedAt)}</dd>
              <dt>Duration</dt><dd>${formatDuration(call.durationSeconds)}</dd>
              <dt>Samples</dt><dd data-testid="sample-count">${samples.length}</dd>
              ${
                summary &&
                html`<dt>Worst / median score</dt><dd>${formatNumber(summary.worstScore, 0)} / ${formatNumber(summary.medianScore)}</dd>
                <dt>Max loss</dt><dd>${formatNumber(summary.maxLossRatio === null ? null : summary.maxLossRatio * 100)} %</dd>
                <dt>Median RTT</dt><dd>${formatNumber(summary.medianRttMs)} ms</dd>`
              }
            </dl>
          </section>
          <section class="panel" aria-labelledby="participants-title">
            <h3 id="participants-title">Participants</h3>
            <table class="compact"><thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">In media</th></tr></thead>
              <tbody>${call.participants.map((p) => html`<tr key=${p.userId}><td>${p.displayName}</td><td>${p.role}</td><td>${p.status}${p.inRoom ? ' · in room' : ''}</td><td>${formatDuration(p.mediaSeconds)}</td></tr>`)}</tbody></table>
          </section>
          <section class="panel" aria-labelledby="timeline-title">
            <h3 id="timeline-title">Timeline</h3>
            <ol class="timeline" data-testid="timeline">${describeTimeline(polled.data?.timeline ?? []).map((e, i) => html`<li key=${i} data-kind=${e.kind}><time datetime=${e.at}>${new Date(e.at).toLocaleTimeString()}</time> ${e.text}</li>`)}</ol>
          </section>
          ${(polled.data?.recordings.length ?? 0) > 0 && html`<${Recordings} backend=${backend} recordings=${polled.data?.recordings ?? []} />`}
        </div>
        <section class="charts" aria-labelledby="charts-title">
          <div class="charts-head">
            <h3 id="charts-title">Quality per track</h3>
            ${
              groups.length > 0 &&
              html`<span class="track-pick"><label for="chart-track">Track</label>
              <select id="chart-track" value=${group?.key} onChange=${(e: Event) => setPicked((e.target as HTMLSelectElement).value)}>
                ${groups.map((g) => html`<option key=${g.key} value=${g.key}>${g.label}</option>`)}
              </select></span>`
            }
          </div>
          ${
            samples.length === 0
              ? html`<p class="hint">No quality samples yet.</p>`
              : METRICS.map((m) => html`<${QualityChart} key=${m.key} samples=${shown} metric=${m} names=${names} />`)
          }
        </section>`
      }
    </main>`;
}

/** The call's recordings: state, length, size, and a download for the ready ones (each download is audited). */
function Recordings({ backend, recordings }: { backend: AdminBackend; recordings: CallRecording[] }) {
  const [error, setError] = useState<string | undefined>();
  const download = (r: CallRecording): void => {
    setError(undefined);
    backend.downloadRecording(r.id).then(
      (blob) => downloadFile(`telemed-call-${r.callId}-recording-${r.id.slice(0, 8)}.mkv`, blob),
      (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
    );
  };
  return html`
    <section class="panel" aria-labelledby="recordings-title" data-testid="recordings">
      <h3 id="recordings-title">Recordings</h3>
      <table class="compact"><thead><tr><th scope="col">Asked</th><th scope="col">State</th><th scope="col">Length</th><th scope="col">Size</th><th scope="col"><span class="sr-only">Download</span></th></tr></thead>
        <tbody>${recordings.map(
          (r) => html`<tr key=${r.id} data-recording=${r.id}>
          <td>${formatDateTime(r.createdAt)}</td><td>${r.state}${r.gaps.length > 0 ? ` · ${r.gaps.length} gap(s)` : ''}</td>
          <td>${formatDuration(r.durationSeconds)}</td><td>${r.sizeBytes === null ? '—' : `${formatNumber(r.sizeBytes / 1_000_000)} MB`}</td>
          <td>${r.state === 'ready' && html`<button type="button" aria-label=${`Download recording ${r.id.slice(0, 8)}`} onClick=${() => download(r)}>⤓</button>`}</td></tr>`,
        )}</tbody></table>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </section>`;
}
