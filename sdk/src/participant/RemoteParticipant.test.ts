import type { types as msTypes } from 'mediasoup-client';
import { describe, expect, it } from 'vitest';
import { RemoteTrack } from '../track/RemoteTrack.js';
import type { RemoteTrackPublication } from '../track/RemoteTrackPublication.js';
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

  it('announces publications that appear later, once, and drops them (and their track) when unpublished', () => {
    const participant = new RemoteParticipant(info);
    const seen: string[] = [];
    participant.on('trackPublished', (p) => seen.push(`published ${p.sid}`));
    participant.on('trackUnpublished', (p) => seen.push(`unpublished ${p.sid}`));
    participant.on('trackSubscribed', (t) => seen.push(`subscribed ${t.sid}`));
    participant.on('trackUnsubscribed', (t) => seen.push(`unsubscribed ${t.sid}`));
    const screen = { producerId: 'screen', kind: 'video' as const, source: 'screenShare' as const, paused: false };
    expect(participant.handleTrackPublished(screen)?.isSubscribed).toBe(false);
    expect(participant.handleTrackPublished(screen)).toBeUndefined();
    participant.handleTrackPublished(info.tracks[0]!);
    participant.addTrack(remoteTrack('screen', 'screenShare'));
    participant.handleTrackUnpublished('screen');
    participant.handleTrackUnpublished('screen');
    expect(seen).toEqual(['published screen', 'subscribed screen', 'unsubscribed screen', 'unpublished screen']);
    expect(participant.trackPublications.map((p) => p.sid)).toEqual(['mic', 'cam']);
  });

  it('keeps a publication whose track is unsubscribed, without its track', () => {
    const participant = new RemoteParticipant(info);
    const track = remoteTrack('cam', 'camera');
    participant.addTrack(track);
    const publication = participant.getTrackPublication('camera');
    expect([publication?.isSubscribed, publication?.track]).toEqual([true, track]);
    participant.removeTrack(track);
    expect([publication?.isSubscribed, publication?.track, participant.getTrack('camera')]).toEqual([false, undefined, undefined]);
    expect(participant.trackPublications.map((p) => p.sid)).toEqual(['mic', 'cam']);
  });

  it('passes setSubscribed to its room in call order, skipping what changes nothing; without a room it rejects', async () => {
    const asked: string[] = [];
    const room: { participant?: RemoteParticipant } = {};
    const request = async (publication: RemoteTrackPublication, subscribed: boolean): Promise<void> => {
      asked.push(`${publication.sid} ${subscribed}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (subscribed) room.participant?.addTrack(remoteTrack(publication.sid, publication.source));
      else if (publication.track) room.participant?.removeTrack(publication.track);
    };
    const participant = new RemoteParticipant(info, request);
    room.participant = participant;
    const camera = participant.getTrackPublication('camera')!;
    await Promise.all([camera.setSubscribed(true), camera.setSubscribed(true), camera.setSubscribed(false)]);
    await camera.setSubscribed(false);
    expect(asked).toEqual(['cam true', 'cam false']);
    const alone = new RemoteParticipant(info).getTrackPublication('camera')!;
    await expect(alone.setSubscribed(true)).rejects.toMatchObject({ name: 'TelemedError', code: 'INVALID_STATE' });
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

/** A remote track on a stand-in consumer (no browser here). */
function remoteTrack(producerId: string, source: RemoteTrack['source']): RemoteTrack {
  const kind = source === 'camera' || source === 'screenShare' ? 'video' : 'audio';
  const consumer = { id: `consumer-${producerId}`, producerId, kind, track: { kind }, closed: false, close: () => undefined };
  return new RemoteTrack(consumer as unknown as msTypes.Consumer, source, false);
}
