import type { types as msTypes } from 'mediasoup-client';
import { describe, expect, it } from 'vitest';
import { waitFor } from '@telemed/test-kit';
import { SignalingError } from '../errors.js';
import { RemoteParticipant } from '../participant/RemoteParticipant.js';
import type { ParticipantInfo } from '../protocol/messages.js';
import { RemoteTrack } from '../track/RemoteTrack.js';
import { Subscriptions } from './Subscriptions.js';

type Answer = 'ok' | 'NOT_FOUND' | 'FORBIDDEN' | 'no track';

/**
 * Subscriptions against a stand-in server: it answers `subscribe` after sending the consumer
 * (whose track the room adds a moment later) and `unsubscribe` after closing it, as the media
 * server does; `answer` picks another outcome per request.
 */
function room(autoSubscribe: boolean, answer: (method: string, producerId: string) => Answer = () => 'ok') {
  const sent: string[] = [];
  const participants: RemoteParticipant[] = [];
  const subscriptions = new Subscriptions({
    autoSubscribe,
    timeoutMs: 100,
    send: async (method, producerId) => {
      sent.push(`${method} ${producerId}`);
      const outcome = answer(method, producerId);
      if (outcome === 'NOT_FOUND' || outcome === 'FORBIDDEN') throw new SignalingError(outcome, `${method} refused`, method);
      const owner = participants.find((p) => p.trackPublications.some((t) => t.sid === producerId));
      const publication = owner?.trackPublications.find((t) => t.sid === producerId);
      if (!owner || !publication || outcome === 'no track') return;
      if (method === 'subscribe') {
        const consumer = { id: `c-${producerId}`, producerId, kind: publication.kind, track: { kind: publication.kind }, close: () => undefined };
        setTimeout(() => owner.addTrack(new RemoteTrack(consumer as unknown as msTypes.Consumer, publication.source, false)), 5);
      } else if (publication.track) owner.removeTrack(publication.track);
    },
  });
  const join = (info: ParticipantInfo): RemoteParticipant => {
    const holder: { participant?: RemoteParticipant } = {};
    const participant = new RemoteParticipant(info, (publication, subscribed) => subscriptions.set(holder.participant!, publication, subscribed));
    holder.participant = participant;
    participants.push(participant);
    for (const publication of participant.trackPublications) subscriptions.handlePublication(participant, publication);
    return participant;
  };
  return { sent, subscriptions, join };
}

const ben = (session: string): ParticipantInfo => ({
  id: `ben-${session}`,
  identity: 'ben',
  name: 'Ben',
  tracks: [
    { producerId: `mic-${session}`, kind: 'audio', source: 'microphone', paused: false },
    { producerId: `cam-${session}`, kind: 'video', source: 'camera', paused: false },
  ],
});

describe('Subscriptions', () => {
  it('subscribes once the track arrives, fires trackSubscribed, and unsubscribes', async () => {
    const { sent, join } = room(false);
    const participant = join(ben('1'));
    const events: string[] = [];
    participant.on('trackSubscribed', (track) => events.push(`subscribed ${track.sid}`));
    participant.on('trackUnsubscribed', (track) => events.push(`unsubscribed ${track.sid}`));
    const camera = participant.getTrackPublication('camera')!;
    await camera.setSubscribed(true);
    expect([camera.isSubscribed, camera.track?.sid]).toEqual([true, 'cam-1']);
    await camera.setSubscribed(true);
    await camera.setSubscribed(false);
    expect([camera.isSubscribed, camera.track]).toEqual([false, undefined]);
    expect(sent).toEqual(['subscribe cam-1', 'unsubscribe cam-1']);
    expect(events).toEqual(['subscribed cam-1', 'unsubscribed cam-1']);
    expect(participant.trackPublications).toContain(camera);
  });

  it("rejects with the server's error, when the track is unpublished meanwhile, or never comes", async () => {
    const { join } = room(false, (_method, producerId) => (producerId === 'mic-1' ? 'FORBIDDEN' : producerId === 'cam-2' ? 'no track' : 'ok'));
    const first = join(ben('1'));
    await expect(first.getTrackPublication('microphone')!.setSubscribed(true)).rejects.toMatchObject({ name: 'SignalingError', code: 'FORBIDDEN' });
    const camera = first.getTrackPublication('camera')!;
    const subscribing = camera.setSubscribed(true);
    await new Promise((resolve) => setTimeout(resolve, 1));
    first.handleTrackUnpublished('cam-1');
    await expect(subscribing).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const second = join(ben('2'));
    await expect(second.getTrackPublication('camera')!.setSubscribed(true)).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('takes an unsubscribe the server no longer knows (unpublished meanwhile) as done', async () => {
    const { join } = room(false, (method) => (method === 'unsubscribe' ? 'NOT_FOUND' : 'ok'));
    const camera = join(ben('1')).getTrackPublication('camera')!;
    await camera.setSubscribed(true);
    await camera.setSubscribed(false);
    expect(camera.isSubscribed).toBe(false);
  });

  it('after a lost session subscribes again to exactly what was subscribed, by identity and source, once it reappears', async () => {
    const { sent, subscriptions, join } = room(false);
    const before = join(ben('1'));
    await before.getTrackPublication('camera')!.setSubscribed(true);
    subscriptions.handleSessionLost([before]);
    before.close('roomRejoined');
    // The rejoined session lists Ben again, with new producers (a failover): only his camera is subscribed.
    const after = join(ben('2'));
    await waitFor('the camera subscribed', () => after.getTrackPublication('camera')?.isSubscribed === true);
    expect(after.getTrackPublication('microphone')?.isSubscribed).toBe(false);
    expect(sent).toEqual(['subscribe cam-1', 'subscribe cam-2']);
    // Once: a later session loss without subscriptions subscribes to nothing.
    subscriptions.handleSessionLost([]);
    join(ben('3'));
    expect(sent).toHaveLength(2);
  });

  it('with autoSubscribe leaves the rejoin to the server', async () => {
    const { sent, subscriptions, join } = room(true);
    const before = join(ben('1'));
    await before.getTrackPublication('camera')!.setSubscribed(true);
    subscriptions.handleSessionLost([before]);
    join(ben('2'));
    expect(sent).toEqual(['subscribe cam-1']);
  });
});
