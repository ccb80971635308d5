// In-page measurements for the cross-browser tests, through the SDK's public RemoteTrack.getStats()
// only: when each remote participant's first video frame was decoded, and how much audio arrived.
import type { TestPage } from '../browser.js';

/** What the first-frame probe adds to the page's window. */
interface ProbeWindow {
  telemedFirstFrames?: Record<string, number>;
}

/**
 * Starts recording, every 50 ms, the page time (ms since navigation started) at which a video
 * frame from each remote participant was first decoded. Install it right after the page loads.
 */
export function installFirstFrameProbe(page: TestPage): Promise<void> {
  return page.evaluate(() => {
    const w = window as typeof window & ProbeWindow;
    if (w.telemedFirstFrames) return;
    const first: Record<string, number> = {};
    w.telemedFirstFrames = first;
    const tick = async (): Promise<void> => {
      for (const participant of window.telemed?.room?.remoteParticipants.values() ?? []) {
        if (participant.identity in first) continue;
        for (const track of participant.tracks) {
          if (track.kind !== 'video' || track.source !== 'camera') continue;
          (await track.getStats()).forEach((s: Record<string, unknown>) => {
            if (s.type === 'inbound-rtp' && Number(s.framesDecoded ?? 0) > 0 && !(participant.identity in first))
              first[participant.identity] = performance.now();
          });
        }
      }
      setTimeout(() => void tick(), 50);
    };
    void tick();
  });
}

/** Page time of the first decoded frame per remote identity (see installFirstFrameProbe). */
export function firstFrames(page: TestPage): Promise<Record<string, number>> {
  return page.evaluate(() => ({ ...(window as typeof window & ProbeWindow).telemedFirstFrames }));
}

/** Received audio per remote identity: bytes, decoded samples and energy (a tone has energy, silence none). */
export interface AudioSample {
  from: string;
  bytesReceived: number;
  /** Samples decoded so far; undefined where the browser does not report it. */
  totalSamplesReceived: number | undefined;
  /** Sum of squared audio levels over time; undefined where the browser does not report it. */
  totalAudioEnergy: number | undefined;
}

export function audioStats(page: TestPage): Promise<AudioSample[]> {
  return page.evaluate(async () => {
    const samples: AudioSample[] = [];
    const room = window.telemed?.room;
    for (const participant of room?.remoteParticipants.values() ?? []) {
      for (const track of participant.tracks) {
        if (track.kind !== 'audio') continue;
        (await track.getStats()).forEach((s: Record<string, unknown>) => {
          if (s.type !== 'inbound-rtp') return;
          const optional = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);
          samples.push({
            from: participant.identity,
            bytesReceived: Number(s.bytesReceived ?? 0),
            totalSamplesReceived: optional(s.totalSamplesReceived),
            totalAudioEnergy: optional(s.totalAudioEnergy),
          });
        });
      }
    }
    return samples;
  });
}

/** The inbound-rtp field names this browser reports, per kind (to record browser differences). */
export function inboundFields(page: TestPage): Promise<Record<string, string[]>> {
  return page.evaluate(async () => {
    const fields: Record<string, string[]> = {};
    const room = window.telemed?.room;
    for (const participant of room?.remoteParticipants.values() ?? []) {
      for (const track of participant.tracks) {
        (await track.getStats()).forEach((s: Record<string, unknown>) => {
          if (s.type === 'inbound-rtp') fields[String(s.kind)] ??= Object.keys(s).sort();
        });
      }
    }
    return fields;
  });
}

/** Frames decoded and the decoded size of `from`'s video of `source`, as `page` receives it now. */
export function receivedVideo(page: TestPage, from: string, source: string): Promise<{ frames: number; width: number; height: number } | undefined> {
  return page.evaluate(
    async ({ from, source }) => {
      const room = window.telemed?.room;
      const participant = [...(room?.remoteParticipants.values() ?? [])].find((p) => p.identity === from);
      const track = participant?.tracks.find((t) => t.kind === 'video' && t.source === source);
      if (!track) return undefined;
      let found: { frames: number; width: number; height: number } | undefined;
      (await track.getStats()).forEach((s: Record<string, unknown>) => {
        if (s.type === 'inbound-rtp') found = { frames: Number(s.framesDecoded ?? 0), width: Number(s.frameWidth ?? 0), height: Number(s.frameHeight ?? 0) };
      });
      return found;
    },
    { from, source },
  );
}
