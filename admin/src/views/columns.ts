// Table columns and CSV columns for calls and quality samples, defined once.
import type { Call, QualitySample } from '@telemed/sdk';
import { html } from 'htm/preact';
import type { CsvColumn } from '../csv.js';
import { formatDateTime, formatDuration, formatNumber, participantDirection } from '../format.js';
import type { Column } from './DataTable.js';

/** Seconds a running call has been going (as of the last refresh); null for others. */
const runningFor = (c: Call): number | null =>
  c.status === 'active' && c.startedAt ? Math.max(0, Math.round((Date.now() - Date.parse(c.startedAt)) / 1000)) : null;

export function participantNames(call: Call): string {
  return call.participants.map((p) => p.displayName).join(', ');
}

export const CALL_COLUMNS: Column<Call>[] = [
  { key: 'created', label: 'Started', render: (c) => formatDateTime(c.startedAt ?? c.createdAt), sortValue: (c) => c.startedAt ?? c.createdAt },
  {
    key: 'participants',
    label: 'Participants',
    render: (c) => html`<a href=${`#/calls/${c.id}`} data-call-link=${c.id}>${participantNames(c)}</a>`,
    sortValue: participantNames,
  },
  { key: 'type', label: 'Type', render: (c) => c.type, sortValue: (c) => c.type },
  { key: 'status', label: 'Status', render: (c) => html`<span class=${`status status-${c.status}`}>${c.status}</span>`, sortValue: (c) => c.status },
  {
    key: 'duration',
    label: 'Duration',
    render: (c) => formatDuration(c.durationSeconds ?? runningFor(c)),
    sortValue: (c) => c.durationSeconds ?? runningFor(c) ?? -1,
  },
  {
    key: 'quality',
    label: 'Median score',
    render: (c) => formatNumber(c.qualitySummary?.medianScore ?? null),
    sortValue: (c) => c.qualitySummary?.medianScore ?? -1,
  },
];

export const CALL_CSV: CsvColumn<Call>[] = [
  { header: 'call_id', value: (c) => c.id },
  { header: 'type', value: (c) => c.type },
  { header: 'status', value: (c) => c.status },
  { header: 'created_at', value: (c) => c.createdAt },
  { header: 'started_at', value: (c) => c.startedAt },
  { header: 'ended_at', value: (c) => c.endedAt },
  { header: 'duration_seconds', value: (c) => c.durationSeconds },
  { header: 'end_reason', value: (c) => c.endReason },
  { header: 'initiator_id', value: (c) => c.initiatorId },
  { header: 'participants', value: participantNames },
  { header: 'quality_samples', value: (c) => c.qualitySummary?.samples },
  { header: 'worst_score', value: (c) => c.qualitySummary?.worstScore },
  { header: 'median_score', value: (c) => c.qualitySummary?.medianScore },
  { header: 'max_loss_ratio', value: (c) => c.qualitySummary?.maxLossRatio },
  { header: 'median_rtt_ms', value: (c) => c.qualitySummary?.medianRttMs },
];

export type CallSample = QualitySample & { callId: string };

export const SAMPLE_CSV: CsvColumn<CallSample>[] = [
  { header: 'call_id', value: (s) => s.callId },
  { header: 'sampled_at', value: (s) => s.sampledAt },
  { header: 'source', value: (s) => s.source },
  { header: 'identity', value: (s) => s.identity },
  { header: 'track_id', value: (s) => s.trackId },
  { header: 'direction', value: (s) => s.direction },
  { header: 'kind', value: (s) => s.kind },
  { header: 'score', value: (s) => s.score },
  { header: 'bitrate_bps', value: (s) => s.bitrateBps },
  { header: 'packets_lost', value: (s) => s.packetsLost },
  { header: 'loss_ratio', value: (s) => s.lossRatio },
  { header: 'jitter_ms', value: (s) => s.jitterMs },
  { header: 'rtt_ms', value: (s) => s.rttMs },
  { header: 'fps', value: (s) => s.framesPerSecond },
  { header: 'frame_width', value: (s) => s.frameWidth },
  { header: 'frame_height', value: (s) => s.frameHeight },
];

export function sampleColumns(names: ReadonlyMap<string, string>): Column<CallSample>[] {
  return [
    { key: 'call', label: 'Call', render: (s) => html`<a href=${`#/calls/${s.callId}`}>${s.callId.slice(0, 8)}</a>`, sortValue: (s) => s.callId },
    { key: 'who', label: 'Participant', render: (s) => names.get(s.identity) ?? s.identity.slice(0, 8), sortValue: (s) => names.get(s.identity) ?? s.identity },
    { key: 'track', label: 'Track', render: (s) => `${s.kind} ${participantDirection(s)}`, sortValue: (s) => `${s.kind}${participantDirection(s)}` },
    { key: 'source', label: 'Side', render: (s) => s.source, sortValue: (s) => s.source },
    { key: 'score', label: 'Score', render: (s) => formatNumber(s.score, 0), sortValue: (s) => s.score ?? -1 },
    { key: 'bitrate', label: 'kbit/s', render: (s) => formatNumber(s.bitrateBps / 1000, 0), sortValue: (s) => s.bitrateBps },
    { key: 'loss', label: 'Loss %', render: (s) => formatNumber(s.lossRatio === null ? null : s.lossRatio * 100), sortValue: (s) => s.lossRatio ?? -1 },
    { key: 'jitter', label: 'Jitter ms', render: (s) => formatNumber(s.jitterMs), sortValue: (s) => s.jitterMs ?? -1 },
    { key: 'rtt', label: 'RTT ms', render: (s) => formatNumber(s.rttMs), sortValue: (s) => s.rttMs ?? -1 },
  ];
}
