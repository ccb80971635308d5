import type { TestPage } from './browser.js';

/** One inbound RTP stream as the receiving browser's getStats() reports it. */
export interface InboundSample {
  from: string;
  kind: 'audio' | 'video';
  source: string;
  framesDecoded: number;
  bytesReceived: number;
  packetsReceived: number;
}

/** Reads every remote track's inbound-rtp stats through the SDK's public RemoteTrack.getStats(). */
export function inboundStats(page: TestPage): Promise<InboundSample[]> {
  return page.evaluate(async () => {
    const room = window.telemed?.room;
    const samples: InboundSample[] = [];
    if (!room) return samples;
    for (const participant of room.remoteParticipants.values()) {
      for (const track of participant.tracks) {
        const report = await track.getStats();
        report.forEach((s: Record<string, unknown>) => {
          if (s.type !== 'inbound-rtp') return;
          samples.push({
            from: participant.identity,
            kind: s.kind as 'audio' | 'video',
            source: track.source,
            framesDecoded: Number(s.framesDecoded ?? 0),
            bytesReceived: Number(s.bytesReceived ?? 0),
            packetsReceived: Number(s.packetsReceived ?? 0),
          });
        });
      }
    }
    return samples;
  });
}
