// The service API's participant commands against a real media server and real bots publishing
// synthetic VP8: list, mute by source (the producer pauses, the owner and the others are told),
// remove (REMOVED close, the same token refused, a later one admitted).
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode, type RoomStatsInfo, type ServiceParticipantsResponse } from '@telemed/sdk/protocol';
import { roomToken, SignalingRefusedError, TestSignalingClient, waitFor } from '@telemed/test-kit';
import type { MediaServer } from '../MediaServer.js';
import { startTestMediaServer } from '../testing/media-server.js';
import { publishVp8, startBotRouter, subscribeVp8, type PublishingBot } from '../testing/bots.js';

const SECRET = 'participant-commands-secret-0123456789';
const SERVICE = 'participant-commands-service-0123456789';
const ROOM = 'consult-1';
let server: MediaServer;
let botWorker: types.Worker;
let botRouter: types.Router;
let publishing: PublishingBot | undefined;

const token = (identity: string): string =>
  roomToken({ secret: SECRET, room: ROOM, identity, name: `Bot ${identity}`, grants: { loadTest: true, canPublishData: false } });
const service = (method: string, path: string, body?: unknown, secret = SERVICE): Promise<Response> =>
  fetch(`http://127.0.0.1:${server.port}${path}`, {
    method,
    headers: { authorization: `Bearer ${secret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });

beforeAll(async () => {
  server = await startTestMediaServer({ roomTokenSecret: SECRET, serviceSecret: SERVICE });
  ({ worker: botWorker, router: botRouter } = await startBotRouter());
});

afterAll(async () => {
  publishing?.stop();
  botWorker?.close();
  await server?.stop();
});

describe('service API participant commands', () => {
  it('lists, mutes by source, and removes a participant for good with its token', async () => {
    const url = `ws://127.0.0.1:${server.port}/rtc`;
    const alice = await TestSignalingClient.connect({ url, token: token('alice') });
    publishing = await publishVp8(alice, botRouter);
    const bobToken = token('bob');
    const bob = await TestSignalingClient.connect({ url, token: bobToken });
    const bobMedia = await subscribeVp8(bob, botRouter);
    await waitFor('media at bob', async () => (await bobMedia.received()) >= 20);

    expect((await service('GET', `/rooms/${ROOM}/participants`, undefined, 'wrong-secret-0123456789')).status).toBe(401);
    expect(await (await service('GET', '/rooms/nowhere/participants')).json()).toMatchObject({ error: { code: 'ROOM_NOT_FOUND' } });
    const listed = (await (await service('GET', `/rooms/${ROOM}/participants`)).json()) as ServiceParticipantsResponse;
    expect(listed.participants.map((p) => p.identity).sort()).toEqual(['alice', 'bob']);
    const aliceInfo = listed.participants.find((p) => p.identity === 'alice')!;
    expect(aliceInfo).toMatchObject({
      name: 'Bot alice',
      participantId: alice.welcome.participantId,
      tracks: [{ trackId: publishing.producerId, source: 'camera', kind: 'video', muted: false }],
    });
    expect(Date.parse(aliceInfo.joinedAt)).toBeGreaterThan(Date.now() - 60_000);

    // Mute: bad input and misses are 4xx with codes; a hit pauses the producer and tells both sides.
    expect((await service('POST', `/rooms/${ROOM}/participants/alice/mute`, '{"source":"nose"}')).status).toBe(400);
    expect((await service('POST', `/rooms/${ROOM}/participants/alice/mute`, 'not json')).status).toBe(400);
    expect(await (await service('POST', `/rooms/${ROOM}/participants/carol/mute`, { source: 'camera' })).json()).toMatchObject({
      error: { code: 'PARTICIPANT_NOT_FOUND' },
    });
    expect(await (await service('POST', `/rooms/${ROOM}/participants/alice/mute`, { source: 'microphone' })).json()).toMatchObject({
      error: { code: 'TRACK_NOT_FOUND' },
    });
    expect((await service('GET', `/rooms/${ROOM}/participants/alice/mute`)).status).toBe(405);
    const muted = await service('POST', `/rooms/${ROOM}/participants/alice/mute`, { source: 'camera' });
    expect(muted.status).toBe(200);
    expect(await muted.json()).toMatchObject({ participant: { identity: 'alice' }, track: { trackId: publishing.producerId, muted: true } });
    expect(await alice.nextNotification('localTrackMutedByAdmin')).toEqual({ producerId: publishing.producerId, by: 'server' });
    expect(await bob.nextNotification('trackMuted')).toEqual({ participantId: alice.welcome.participantId, producerId: publishing.producerId });
    const stats = (await (await service('GET', `/rooms/${ROOM}/stats`)).json()) as RoomStatsInfo;
    expect(stats.producers.find((p) => p.producerId === publishing!.producerId)?.paused).toBe(true);
    // Remove: bob's socket closes REMOVED, alice is told why; the same token cannot come back (the
    // very token bob joined with: one minted now could fall in a later second than the removal).
    expect(await (await service('DELETE', `/rooms/${ROOM}/participants/carol`)).json()).toMatchObject({ error: { code: 'PARTICIPANT_NOT_FOUND' } });
    const removed = await service('DELETE', `/rooms/${ROOM}/participants/bob`);
    expect(await removed.json()).toEqual({ removed: true, closed: 1 });
    const removedAt = Date.now();
    expect(await bob.closed).toEqual({ code: CloseCode.Removed, reason: 'REMOVED' });
    expect(await alice.nextNotification('participantLeft')).toEqual({ participantId: bob.welcome.participantId, reason: 'removed' });
    const again = await TestSignalingClient.connect({ url, token: bobToken }).catch((error: unknown) => error);
    expect(again).toBeInstanceOf(SignalingRefusedError);
    expect((again as SignalingRefusedError).close).toEqual({ code: CloseCode.Removed, reason: 'REMOVED' });
    const resumed = await TestSignalingClient.connect({
      url,
      token: bobToken,
      resume: { participantId: bob.welcome.participantId, key: bob.welcome.resumeKey },
    }).catch((error: unknown) => error);
    expect(resumed).toBeInstanceOf(SignalingRefusedError);
    // A token minted after the removal (iat has whole seconds: from the next second on) joins again.
    await waitFor('the next second', () => Math.floor(Date.now() / 1000) > Math.floor(removedAt / 1000));
    const back = await TestSignalingClient.connect({ url, token: token('bob') });
    expect(back.welcome.identity).toBe('bob');
    await back.close();
    await alice.close();
  });
});
