import { describe, expect, it } from 'vitest';
import { RemoteParticipant, type ParticipantLeftReason } from './RemoteParticipant.js';

const info = {
  id: 'p2',
  identity: 'ben',
  name: 'Ben',
  tracks: [
    { producerId: 'mic', kind: 'audio' as const, source: 'microphone' as const, paused: false },
    { producerId: 'cam', kind: 'video' as const, source: 'camera' as const, paused: true },
  ],
};

describe('RemoteParticipant publications', () => {
  it("knows what the participant publishes from the server's participant info, before any track is received", () => {
    const participant = new RemoteParticipant(info);
    expect(participant.trackPublications.map((p) => [p.sid, p.kind, p.source, p.isMuted, p.isSubscribed])).toEqual([
      ['mic', 'audio', 'microphone', false, false],
      ['cam', 'video', 'camera', true, false],
    ]);
    expect(participant.getTrackPublication('camera')?.sid).toBe('cam');
    expect(participant.tracks).toEqual([]);
  });

  it("follows the server's trackMuted/trackUnmuted for a publication it does not receive", () => {
    const participant = new RemoteParticipant(info);
    participant.handleTrackMuted('mic', true);
    participant.handleTrackMuted('cam', false);
    participant.handleTrackMuted('unknown', true);
    expect(participant.trackPublications.map((p) => p.isMuted)).toEqual([true, false]);
  });

  it('says why it left', () => {
    const participant = new RemoteParticipant(info);
    const reasons: ParticipantLeftReason[] = [];
    participant.on('left', (reason) => reasons.push(reason));
    participant.close('removed');
    expect(reasons).toEqual(['removed']);
  });

  it('emits its own speaking and quality changes, once per change', () => {
    const participant = new RemoteParticipant(info);
    const seen: string[] = [];
    participant.on('isSpeakingChanged', (speaking) => seen.push(`speaking ${speaking}`));
    participant.on('connectionQualityChanged', (quality) => seen.push(`quality ${quality}`));
    participant.setSpeaking(true);
    participant.setSpeaking(true);
    participant.setConnectionQuality('poor');
    participant.setConnectionQuality('poor');
    participant.setSpeaking(false);
    expect(seen).toEqual(['speaking true', 'quality poor', 'speaking false']);
  });
});
