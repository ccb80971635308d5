// Client-side quality samples for the admin's charts: every few seconds, each published and each
// received track's browser stats (bitrate, loss, jitter, RTT, fps, frame size) go to the API.
import type { LocalTrack, RemoteTrack, Room } from '@telemed/sdk';
import type { ClientQualitySample } from '../backend/types.js';

type Stat = Record<string, unknown> & { type: string; id: string };

const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

function collect(report: RTCStatsReport): Stat[] {
  const out: Stat[] = [];
  report.forEach((s: Stat) => out.push(s));
  return out;
}

/** One sample from a track's stats; `previous` bytes/time give the bitrate. */
function sample(track: LocalTrack | RemoteTrack, trackId: string, direction: 'in' | 'out', stats: Stat[], previous: Map<string, { bytes: number; at: number }>): ClientQualitySample | undefined {
  const rtp = stats.filter((s) => s.type === (direction === 'in' ? 'inbound-rtp' : 'outbound-rtp'));
  if (rtp.length === 0) return undefined;
  const bytes = rtp.reduce((sum, s) => sum + (num(direction === 'in' ? s.bytesReceived : s.bytesSent) ?? 0), 0);
  const now = performance.now();
  const before = previous.get(trackId);
  previous.set(trackId, { bytes, at: now });
  const bitrateBps = before && now > before.at ? Math.max(0, ((bytes - before.bytes) * 8000) / (now - before.at)) : 0;
  // For what we send, loss/jitter/RTT come back in the receiver's reports (remote-inbound-rtp).
  const remote = stats.filter((s) => s.type === 'remote-inbound-rtp');
  const main = rtp.reduce((best, s) => ((num(s.frameWidth) ?? 0) > (num(best.frameWidth) ?? 0) ? s : best), rtp[0]!);
  const pair = stats.find((s) => s.type === 'candidate-pair' && s.nominated === true);
  const jitterSeconds = direction === 'in' ? num(main.jitter) : remote.length ? Math.max(...remote.map((r) => num(r.jitter) ?? 0)) : null;
  const rttSeconds = remote.length ? Math.max(...remote.map((r) => num(r.roundTripTime) ?? 0)) : num(pair?.currentRoundTripTime);
  const emitted = num(main.jitterBufferEmittedCount);
  return {
    trackId,
    direction,
    kind: track.kind,
    source: track.source,
    sampledAt: new Date().toISOString(),
    bitrateBps: Math.round(bitrateBps),
    packetsLost: Math.max(0, direction === 'in' ? (num(main.packetsLost) ?? 0) : remote.reduce((sum, r) => sum + (num(r.packetsLost) ?? 0), 0)),
    jitterMs: jitterSeconds === null ? null : jitterSeconds * 1000,
    rttMs: rttSeconds === null ? null : rttSeconds * 1000,
    framesPerSecond: num(main.framesPerSecond),
    frameWidth: num(main.frameWidth),
    frameHeight: num(main.frameHeight),
    jitterBufferDelayMs: emitted ? ((num(main.jitterBufferDelay) ?? 0) / emitted) * 1000 : null,
  };
}

/** Samples every `intervalMs` while the room is connected; returns stop. Failures are dropped. */
export function reportQuality(room: Room, send: (samples: ClientQualitySample[]) => Promise<void>, intervalMs = 5000): () => void {
  const previous = new Map<string, { bytes: number; at: number }>();
  const tick = async (): Promise<void> => {
    if (room.state !== 'connected') return;
    const jobs: Promise<ClientQualitySample | undefined>[] = [];
    for (const track of room.localParticipant.tracks) {
      const id = track.sid;
      if (id) jobs.push(track.getStats().then((r) => (r ? sample(track, id, 'out', collect(r), previous) : undefined)));
    }
    for (const participant of room.remoteParticipants.values()) {
      for (const track of participant.tracks) jobs.push(track.getStats().then((r) => sample(track, track.consumerId, 'in', collect(r), previous)));
    }
    const samples = (await Promise.all(jobs.map((j) => j.catch(() => undefined)))).filter((s): s is ClientQualitySample => s !== undefined);
    if (samples.length) await send(samples);
  };
  const timer = setInterval(() => void tick().catch(() => undefined), intervalMs);
  return () => clearInterval(timer);
}
