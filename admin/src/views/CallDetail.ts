// One call: participants, a timeline, and per-track quality charts from server and client samples.
import type { Call, QualitySample } from '@telemed/sdk';
import { html } from 'htm/preact';
import { useMemo } from 'preact/hooks';
import type { AdminBackend } from '../backend.js';
import { downloadFile, toCsv } from '../csv.js';
import { formatDateTime, formatDuration, formatNumber } from '../format.js';
import { SAMPLE_CSV } from './columns.js';
import { METRICS, QualityChart } from './QualityCharts.js';
import { usePolling } from './usePolling.js';

interface Detail {
  call: Call;
  samples: QualitySample[];
}

interface TimelineEntry {
  at: string;
  text: string;
}

function timeline(call: Call): TimelineEntry[] {
  const entries: TimelineEntry[] = [{ at: call.createdAt, text: `Call created (${call.type})` }];
  for (const p of call.participants) {
    if (p.role === 'invitee') entries.push({ at: p.invitedAt, text: `${p.displayName} invited` });
    if (p.acceptedAt) entries.push({ at: p.acceptedAt, text: `${p.displayName} ${p.role === 'initiator' ? 'joined' : 'accepted'}` });
    if (p.leftAt) entries.push({ at: p.leftAt, text: `${p.displayName} left` });
  }
  if (call.startedAt) entries.push({ at: call.startedAt, text: 'Call started' });
  if (call.endedAt) entries.push({ at: call.endedAt, text: `Call ${call.status}${call.endReason ? ` (${call.endReason})` : ''}` });
  return entries.sort((a, b) => a.at.localeCompare(b.at));
}

export function CallDetail({ backend, callId }: { backend: AdminBackend; callId: string }) {
  const polled = usePolling(async (): Promise<Detail> => {
    const [call, samples] = await Promise.all([backend.call(callId), backend.quality(callId)]);
    return { call, samples };
  }, 5000, [backend, callId]);
  const call = polled.data?.call;
  const samples = polled.data?.samples ?? [];
  const names = useMemo(() => new Map((call?.participants ?? []).map((p) => [p.userId, p.displayName])), [call]);
  const summary = call?.qualitySummary;

  return html`
    <main class="detail" data-testid="call-detail">
      <div class="toolbar-row">
        <a href="#/" class="back" aria-label="Back to dashboard">←</a>
        <h2>Call ${callId.slice(0, 8)}</h2>
        ${call && html`<span class=${`status status-${call.status}`} data-testid="detail-status">${call.status}</span>`}
        <span class="updated">${polled.error ? html`<span class="error" role="alert">${polled.error}</span>` : polled.updatedAt ? `Updated ${polled.updatedAt.toLocaleTimeString()}` : 'Loading…'}</span>
        <button type="button" onClick=${polled.refresh} aria-label="Refresh call">↻ Refresh</button>
        <button type="button" id="export-call-quality" disabled=${samples.length === 0}
          onClick=${() => downloadFile(`telemed-call-${callId}-quality.csv`, toCsv(samples.map((s) => ({ ...s, callId })), SAMPLE_CSV))}>⤓ Export quality CSV</button>
      </div>
      ${call && html`
        <div class="detail-grid">
          <section class="panel" aria-labelledby="summary-title">
            <h3 id="summary-title">Summary</h3>
            <dl class="facts">
              <dt>Type</dt><dd>${call.type}</dd>
              <dt>Started</dt><dd>${formatDateTime(call.startedAt)}</dd>
              <dt>Ended</dt><dd>${formatDateTime(call.endedAt)}</dd>
              <dt>Duration</dt><dd>${formatDuration(call.durationSeconds)}</dd>
              <dt>Samples</dt><dd data-testid="sample-count">${samples.length}</dd>
              ${summary && html`<dt>Worst / median score</dt><dd>${formatNumber(summary.worstScore, 0)} / ${formatNumber(summary.medianScore)}</dd>
                <dt>Max loss</dt><dd>${formatNumber(summary.maxLossRatio === null ? null : summary.maxLossRatio * 100)} %</dd>
                <dt>Median RTT</dt><dd>${formatNumber(summary.medianRttMs)} ms</dd>`}
            </dl>
          </section>
          <section class="panel" aria-labelledby="participants-title">
            <h3 id="participants-title">Participants</h3>
            <table class="compact"><thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">In media</th></tr></thead>
              <tbody>${call.participants.map((p) => html`<tr key=${p.userId}><td>${p.displayName}</td><td>${p.role}</td><td>${p.status}${p.inRoom ? ' · in room' : ''}</td><td>${formatDuration(p.mediaSeconds)}</td></tr>`)}</tbody></table>
          </section>
          <section class="panel" aria-labelledby="timeline-title">
            <h3 id="timeline-title">Timeline</h3>
            <ol class="timeline">${timeline(call).map((e, i) => html`<li key=${i}><time datetime=${e.at}>${new Date(e.at).toLocaleTimeString()}</time> ${e.text}</li>`)}</ol>
          </section>
        </div>
        <section class="charts" aria-labelledby="charts-title">
          <h3 id="charts-title">Quality per track</h3>
          ${samples.length === 0 ? html`<p class="hint">No quality samples yet.</p>`
            : METRICS.map((m) => html`<${QualityChart} key=${m.key} samples=${samples} metric=${m} names=${names} />`)}
        </section>`}
    </main>`;
}
