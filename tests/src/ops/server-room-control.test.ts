// A third-party backend controls a live room with an API key, against the built platform: two
// Node bots (the load-test bots' plain-RTP path: real SRTP through the SFU, no browser) are in a
// room; the server SDK lists them, mutes one (its producer pauses on the SFU, it is told over
// signaling) and removes the other (its socket closes REMOVED and its token no longer joins).
// Scopes are enforced and every command is in the audit log with the key as actor.
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiResponseError, TelemedServerClient } from '@telemed/server-sdk';
import { CloseCode, type RoomStatsInfo } from '@telemed/sdk/protocol';
import { roomToken, SignalingRefusedError, TestSignalingClient, waitFor } from '@telemed/test-kit';
import { publishVp8, startBotRouter, subscribeVp8, type PublishingBot } from '../../../media-server/src/testing/bots.js';
import { startTestPlatform, type Platform } from '../platform.js';
import { telemed } from './telemed-cli.js';

const ROOM = 'acme-consult-7';

interface AuditRow {
  action: string;
  entityType: string;
  entityIds: string[] | null;
  entityId: string;
  actorId: string | null;
}

describe('room control with an API key (server SDK, CLI) against bots in a live room', () => {
  let platform: Platform;
  let adminToken: string;
  let botWorker: types.Worker;
  let botRouter: types.Router;
  let publishing: PublishingBot | undefined;
  const bots: TestSignalingClient[] = [];

  const admin = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${platform.apiUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    expect(res.ok, `${method} ${route}: ${res.status}`).toBe(true);
    return (await res.json()) as T;
  };
  const join = (identity: string, token = botToken(identity)): Promise<TestSignalingClient> => TestSignalingClient.connect({ url: platform.mediaWsUrl, token });
  const botToken = (identity: string): string =>
    roomToken({ secret: platform.secrets.roomTokenSecret, room: ROOM, identity, name: identity, grants: { loadTest: true, canPublishData: false } });

  beforeAll(async () => {
    [platform, { worker: botWorker, router: botRouter }] = await Promise.all([startTestPlatform({ apiEnv: { SEED_DEMO: 'true' } }), startBotRouter()]);
    const login = await fetch(`${platform.apiUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@telemed.demo', password: 'telemed-demo' }),
    });
    adminToken = ((await login.json()) as { accessToken: string }).accessToken;
  });
  afterAll(async () => {
    publishing?.stop();
    await Promise.all(bots.map((b) => b.close().catch(() => undefined)));
    botWorker?.close();
    await platform?.stop();
  });

  it('lists, mutes and removes participants; scopes, 404s and the audit log hold', async () => {
    const roomsKey = await admin<{ apiKey: { id: string }; secret: string }>('POST', '/api/admin/api-keys', { name: 'Acme room control', scopes: ['rooms'] });
    const callsKey = await admin<{ secret: string }>('POST', '/api/admin/api-keys', { name: 'Acme calls only', scopes: ['calls'] });
    const acme = new TelemedServerClient({ apiUrl: platform.apiUrl, apiKey: roomsKey.secret });
    const narrow = new TelemedServerClient({ apiUrl: platform.apiUrl, apiKey: callsKey.secret });

    const alice = await join('alice');
    bots.push(alice);
    publishing = await publishVp8(alice, botRouter);
    const bobToken = botToken('bob');
    const bob = await join('bob', bobToken);
    bots.push(bob);
    const bobMedia = await subscribeVp8(bob, botRouter);
    await waitFor('VP8 from alice at bob', async () => (await bobMedia.received()) >= 20);

    // Listing: both bots, alice's camera unmuted; a key without the scope is 403, an empty room 404.
    const listed = await acme.listParticipants(ROOM);
    expect(listed.map((p) => p.identity).sort()).toEqual(['alice', 'bob']);
    expect(listed.find((p) => p.identity === 'alice')).toMatchObject({
      participantId: alice.welcome.participantId,
      tracks: [{ trackId: publishing.producerId, source: 'camera', kind: 'video', muted: false }],
    });
    const refused = await narrow.listParticipants(ROOM).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiResponseError);
    expect(refused).toMatchObject({ status: 403, apiCode: 'FORBIDDEN' });
    expect(await narrow.muteParticipant(ROOM, 'alice', 'camera').catch((error: unknown) => error)).toMatchObject({ status: 403 });
    expect(await narrow.removeParticipant(ROOM, 'bob').catch((error: unknown) => error)).toMatchObject({ status: 403 });
    expect(await acme.listParticipants('nobody-here').catch((error: unknown) => error)).toMatchObject({ status: 404, apiCode: 'NOT_FOUND' });
    expect(await acme.muteParticipant(ROOM, 'carol', 'camera').catch((error: unknown) => error)).toMatchObject({ status: 404, apiCode: 'NOT_FOUND' });
    expect(await acme.muteParticipant(ROOM, 'alice', 'microphone').catch((error: unknown) => error)).toMatchObject({ status: 404, apiCode: 'NOT_FOUND' });
    expect(await acme.removeParticipant(ROOM, 'carol').catch((error: unknown) => error)).toMatchObject({ status: 404, apiCode: 'NOT_FOUND' });

    // The CLI lists the same room with the key.
    const cli = await telemed(['rooms', 'participants', ROOM, '--api', platform.apiUrl, '--key', roomsKey.secret]);
    expect(cli.code, cli.stderr).toBe(0);
    expect((JSON.parse(cli.stdout) as { items: Array<{ identity: string }> }).items.map((p) => p.identity).sort()).toEqual(['alice', 'bob']);

    // Mute: the SFU's producer pauses, alice's signaling says the server muted it, bob sees it muted.
    const muted = await acme.muteParticipant(ROOM, 'alice', 'camera');
    expect(muted).toMatchObject({ participant: { identity: 'alice' }, track: { trackId: publishing.producerId, source: 'camera', muted: true } });
    expect(await alice.nextNotification('localTrackMutedByAdmin')).toEqual({ producerId: publishing.producerId, by: 'server' });
    expect(await bob.nextNotification('trackMuted')).toEqual({ participantId: alice.welcome.participantId, producerId: publishing.producerId });
    const stats = await fetch(`${platform.mediaHttpUrl}/rooms/${ROOM}/stats`, { headers: { authorization: `Bearer ${platform.secrets.serviceSecret}` } });
    expect(((await stats.json()) as RoomStatsInfo).producers.find((p) => p.producerId === publishing!.producerId)?.paused).toBe(true);

    // Remove: bob's socket closes with REMOVED, alice is told why, bob's token no longer joins (the
    // token he joined with: one minted now could fall in a later second than the removal and join).
    await acme.removeParticipant(ROOM, 'bob');
    expect(await bob.closed).toEqual({ code: CloseCode.Removed, reason: 'REMOVED' });
    expect(await alice.nextNotification('participantLeft')).toEqual({ participantId: bob.welcome.participantId, reason: 'removed' });
    const back = await join('bob', bobToken).catch((error: unknown) => error);
    expect(back).toBeInstanceOf(SignalingRefusedError);
    expect((back as SignalingRefusedError).close.code).toBe(CloseCode.Removed);
    expect((await acme.listParticipants(ROOM)).map((p) => p.identity)).toEqual(['alice']);

    // Every command is audited with the key as the actor (no user) and the room:identity it touched.
    const keyRows = async (): Promise<AuditRow[]> =>
      (await admin<{ items: AuditRow[] }>('GET', '/api/admin/audit?entityType=participant&limit=50')).items.filter((r) =>
        (r.entityIds ?? [r.entityId]).includes(roomsKey.apiKey.id),
      );
    const rows = await waitFor('five audit rows of the key', async () => {
      const found = await keyRows();
      return found.length >= 5 && found;
    });
    expect(rows.every((r) => r.actorId === null)).toBe(true);
    const actions = rows
      .map(
        (r) =>
          `${r.action} ${(r.entityIds ?? [])
            .filter((id) => id.startsWith(`${ROOM}:`))
            .sort()
            .join(',')}`,
      )
      .reverse();
    expect(actions).toEqual([
      `read ${ROOM}:alice,${ROOM}:bob`,
      `read ${ROOM}:alice,${ROOM}:bob`,
      `update ${ROOM}:alice`,
      `delete ${ROOM}:bob`,
      `read ${ROOM}:alice`,
    ]);
  });
});
