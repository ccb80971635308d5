// What one call page sees of its link at one moment: the counters of its sent and received streams
// (the SDK's public LocalTrack/RemoteTrack.getStats()) and its connection-quality grades. Tests take
// two snapshots and compare them, so every figure is over an interval of their choosing.
import type { TestPage } from '../browser.js';

export interface LinkSnapshot {
  at: number;
  /** Received audio, summed over remote participants. */
  audioIn: {
    totalSamplesReceived: number;
    concealedSamples: number;
    silentConcealedSamples: number;
    packetsReceived: number;
    packetsLost: number;
    fecPacketsReceived: number;
  };
  /** Received camera video, summed over remote participants. */
  videoIn: {
    framesDecoded: number;
    packetsReceived: number;
    packetsLost: number;
    nackCount: number;
    retransmittedPacketsReceived: number;
    frameWidth: number;
    frameHeight: number;
  };
  /** Sent camera video, summed over its simulcast encodings. */
  /** retransmittedPacketsSent is null when the browser does not report it. */
  videoOut: {
    bytesSent: number;
    retransmittedPacketsSent: number | null;
    framesEncoded: number;
    targetBitrate: number;
    frameHeight: number;
    qualityLimitationReason: string;
    activeRids: string[];
  };
  /** Sent screen share (zeros without one). */
  screenOut: { framesEncoded: number; frameWidth: number; frameHeight: number; bytesSent: number };
  /** The send codec's fmtp line of the microphone (Opus parameters). */
  audioOutFmtp: string;
  /** The SDK's grade of this page's own link, and of each remote participant by identity. */
  quality: { local: string; remote: Record<string, string> };
  /**
   * The round-trip time to the SFU, ms, as the browser measures it on its sending transport: the
   * selected candidate pair's (ICE consent checks) where the browser reports it, else RTCP's for
   * the microphone's stream (remote-inbound-rtp); 0 before either is known.
   */
  rttMs: number;
  /** The received audio's interarrival jitter (RFC 3550), ms, the largest over remote participants. */
  audioJitterMs: number;
}

/** One snapshot of `page`'s call (the call page's `window.telemed.room`). */
export function linkSnapshot(page: TestPage): Promise<LinkSnapshot> {
  return page.evaluate(async () => {
    type Stats = Record<string, unknown>;
    const room = window.telemed.room;
    const n = (value: unknown): number => (typeof value === 'number' ? value : 0);
    const snapshot = {
      at: Date.now(),
      audioIn: { totalSamplesReceived: 0, concealedSamples: 0, silentConcealedSamples: 0, packetsReceived: 0, packetsLost: 0, fecPacketsReceived: 0 },
      videoIn: { framesDecoded: 0, packetsReceived: 0, packetsLost: 0, nackCount: 0, retransmittedPacketsReceived: 0, frameWidth: 0, frameHeight: 0 },
      videoOut: {
        bytesSent: 0,
        retransmittedPacketsSent: null as number | null,
        framesEncoded: 0,
        targetBitrate: 0,
        frameHeight: 0,
        qualityLimitationReason: 'none',
        activeRids: [] as string[],
      },
      screenOut: { framesEncoded: 0, frameWidth: 0, frameHeight: 0, bytesSent: 0 },
      audioOutFmtp: '',
      quality: { local: room.localParticipant.connectionQuality, remote: {} as Record<string, string> },
      rttMs: 0,
      audioJitterMs: 0,
    };
    let iceRtt: number | undefined;
    let rtcpRtt: number | undefined;
    for (const remote of room.remoteParticipants.values()) {
      snapshot.quality.remote[remote.identity] = remote.connectionQuality;
      for (const track of remote.tracks) {
        (await track.getStats())?.forEach((s: Stats) => {
          if (s.type !== 'inbound-rtp') return;
          if (s.kind === 'audio') {
            const a = snapshot.audioIn;
            a.totalSamplesReceived += n(s.totalSamplesReceived);
            a.concealedSamples += n(s.concealedSamples);
            a.silentConcealedSamples += n(s.silentConcealedSamples);
            a.packetsReceived += n(s.packetsReceived);
            a.packetsLost += Math.max(0, n(s.packetsLost));
            a.fecPacketsReceived += n(s.fecPacketsReceived);
            snapshot.audioJitterMs = Math.max(snapshot.audioJitterMs, n(s.jitter) * 1000);
          } else if (track.source === 'camera') {
            const v = snapshot.videoIn;
            v.framesDecoded += n(s.framesDecoded);
            v.packetsReceived += n(s.packetsReceived);
            v.packetsLost += Math.max(0, n(s.packetsLost));
            v.nackCount += n(s.nackCount);
            v.retransmittedPacketsReceived += n(s.retransmittedPacketsReceived);
            v.frameWidth = Math.max(v.frameWidth, n(s.frameWidth));
            v.frameHeight = Math.max(v.frameHeight, n(s.frameHeight));
          }
        });
      }
    }
    for (const track of room.localParticipant.tracks) {
      const report = await track.getStats();
      report?.forEach((s: Stats) => {
        if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' && typeof s.currentRoundTripTime === 'number') {
          iceRtt = s.currentRoundTripTime * 1000;
        }
        // The microphone's: its stream never stops, while a simulcast layer the encoder stopped
        // keeps the round trip it had before the path changed.
        if (s.type === 'remote-inbound-rtp' && track.source === 'microphone' && typeof s.roundTripTime === 'number') rtcpRtt = s.roundTripTime * 1000;
        if (s.type !== 'outbound-rtp') return;
        if (track.source === 'camera') {
          const v = snapshot.videoOut;
          v.bytesSent += n(s.bytesSent);
          if (typeof s.retransmittedPacketsSent === 'number') v.retransmittedPacketsSent = (v.retransmittedPacketsSent ?? 0) + s.retransmittedPacketsSent;
          v.framesEncoded += n(s.framesEncoded);
          v.targetBitrate += n(s.targetBitrate);
          v.frameHeight = Math.max(v.frameHeight, n(s.frameHeight));
          if (typeof s.qualityLimitationReason === 'string' && s.qualityLimitationReason !== 'none') v.qualityLimitationReason = s.qualityLimitationReason;
          if (s.active !== false && typeof s.rid === 'string') v.activeRids.push(s.rid);
        } else if (track.source === 'screenShare') {
          const v = snapshot.screenOut;
          v.framesEncoded += n(s.framesEncoded);
          v.bytesSent += n(s.bytesSent);
          v.frameWidth = Math.max(v.frameWidth, n(s.frameWidth));
          v.frameHeight = Math.max(v.frameHeight, n(s.frameHeight));
        } else if (track.kind === 'audio') {
          const codec = report.get(String(s.codecId)) as Stats | undefined;
          snapshot.audioOutFmtp = String(codec?.sdpFmtpLine ?? '');
        }
      });
    }
    snapshot.rttMs = iceRtt ?? rtcpRtt ?? 0;
    return snapshot;
  });
}

/** Share of received audio that was concealed (packet-loss concealment, not silence) between two snapshots. */
export function concealedRatio(before: LinkSnapshot, after: LinkSnapshot): number {
  const total = after.audioIn.totalSamplesReceived - before.audioIn.totalSamplesReceived;
  const concealed =
    after.audioIn.concealedSamples - after.audioIn.silentConcealedSamples - (before.audioIn.concealedSamples - before.audioIn.silentConcealedSamples);
  return total > 0 ? concealed / total : 1;
}

/** The share of received audio packets that the network lost over the interval (what the receiver counted missing). */
export function audioLossRatio(before: LinkSnapshot, after: LinkSnapshot): number {
  const lost = after.audioIn.packetsLost - before.audioIn.packetsLost;
  const received = after.audioIn.packetsReceived - before.audioIn.packetsReceived;
  return lost + received > 0 ? Math.max(0, lost) / (lost + received) : 0;
}

/** Seconds of audio received between two snapshots (48 kHz). */
export function audioSeconds(before: LinkSnapshot, after: LinkSnapshot): number {
  return (after.audioIn.totalSamplesReceived - before.audioIn.totalSamplesReceived) / 48_000;
}

/** The camera's send rate between two snapshots, kbit/s. */
/** Video frames decoded per second between two snapshots, summed over remote participants. */
export function videoFps(before: LinkSnapshot, after: LinkSnapshot): number {
  return ((after.videoIn.framesDecoded - before.videoIn.framesDecoded) * 1000) / Math.max(1, after.at - before.at);
}

export function videoSendKbps(before: LinkSnapshot, after: LinkSnapshot): number {
  return ((after.videoOut.bytesSent - before.videoOut.bytesSent) * 8) / Math.max(1, after.at - before.at);
}
