// Session lifecycle against a real worker: resume with the session key (and only with it),
// notifications buffered while the client is away, room limits and the maximum call duration.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { MediaServer } from '../MediaServer.js';
import { startTestMediaServer } from '../testing/media-server.js';
import { roomToken, TestSignalingClient } from '@telemed/test-kit';

const SECRET = 'lifecycle-test-secret-0123456789';
let server: MediaServer;
let base: string;

const token = (room: string, identity: string, roomAdmin = false): string => roomToken({ secret: SECRET, room, identity, grants: { roomAdmin } });

const open = (room: string, identity: string, resume?: { participantId: string; key: string }): Promise<TestSignalingClient> =>
  TestSignalingClient.connect({ url: base, token: token(room, identity), ...(resume ? { resume } : {}) });

const join = async (client: TestSignalingClient): Promise<void> => {
  await client.request('join', { rtpCapabilities: client.welcome.routerRtpCapabilities });
};

beforeAll(async () => {
  server = await startTestMediaServer({
    roomTokenSecret: SECRET,
    maxParticipantsPerRoom: 2,
    maxCallDurationSec: 2,
    callEndWarningsSec: [1.5, 5],
    resumeGraceMs: 5000,
  });
  base = `ws://127.0.0.1:${server.port}/rtc`;
});

afterAll(async () => {
  await server?.stop();
});

describe('signaling sessions', () => {
  it('resumes a dropped session with its key, delivering what was sent meanwhile; a wrong key gets a new session', async () => {
    const alice = await open('resume', 'alice');
    await join(alice);
    await alice.terminate();
    // While alice is away, bob joins: alice's session is told.
    const bob = await open('resume', 'bob');
    await join(bob);
    const forged = await open('resume', 'alice', { participantId: alice.welcome.participantId, key: 'x'.repeat(alice.welcome.resumeKey.length) });
    expect(forged.welcome.resumed).toBe(false);
    expect(forged.welcome.participantId).not.toBe(alice.welcome.participantId);
    await forged.close();
    await bob.close();

    const carol = await open('resume2', 'carol');
    await join(carol);
    await carol.terminate();
    const dave = await open('resume2', 'dave');
    await join(dave);
    const back = await open('resume2', 'carol', { participantId: carol.welcome.participantId, key: carol.welcome.resumeKey });
    expect(back.welcome).toMatchObject({ resumed: true, participantId: carol.welcome.participantId });
    await back.nextNotification('participantJoined');
    await Promise.all([back.close(), dave.close()]);
  });

  it('refuses a participant beyond the room maximum with ROOM_FULL', async () => {
    const a = await open('full', 'a');
    const b = await open('full', 'b');
    const socket = new WebSocket(`${base}?token=${token('full', 'c')}`);
    const closed = await new Promise<{ code: number; reason: string }>((resolve) =>
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    expect(closed).toEqual({ code: 4403, reason: 'ROOM_FULL' });
    await Promise.all([a.close(), b.close()]);
  });

  it('warns everyone before the maximum duration (and a participant who joins after the warning), then ends the call with 4413 MAX_DURATION', async () => {
    const a = await open('short', 'a');
    await join(a);
    const endsAt = Date.parse(a.welcome.endsAt!);
    // Opened now, closing 2 s later (MAX_CALL_DURATION); the 5 s warning does not fit and is skipped.
    expect(endsAt - Date.now()).toBeGreaterThan(1000);
    expect(endsAt - Date.now()).toBeLessThanOrEqual(2000);
    const warning = await a.nextNotification('callEndingSoon');
    expect(warning).toEqual({ endsAt: a.welcome.endsAt, secondsLeft: 2 }); // 1.5 s, rounded up
    const b = await open('short', 'b');
    expect(b.welcome.endsAt).toBe(a.welcome.endsAt);
    await join(b);
    expect(await b.nextNotification('callEndingSoon')).toMatchObject({ endsAt: a.welcome.endsAt });
    expect(await a.closed).toEqual({ code: 4413, reason: 'MAX_DURATION' });
    expect(await b.closed).toEqual({ code: 4413, reason: 'MAX_DURATION' });
    expect(Date.now()).toBeGreaterThanOrEqual(endsAt - 50);
    expect(a.notifications('callEndingSoon')).toHaveLength(1);
  });

  it("counts the maximum duration from the call's start in the token (a room rebuilt on another node), and refuses a call past it", async () => {
    // The call started a second ago elsewhere: this node's new room ends 2 s after that start, and
    // the 1.5 s warning, already past, reaches the joiner at once.
    const startedAt = new Date(Date.now() - 1000);
    const startedToken = (room: string, identity: string, at: Date): string => roomToken({ secret: SECRET, room, identity, roomStartedAt: at });
    const a = await TestSignalingClient.connect({ url: base, token: startedToken('moved', 'a', startedAt) });
    expect(Date.parse(a.welcome.endsAt!)).toBe(Math.floor(startedAt.getTime() / 1000) * 1000 + 2000);
    await join(a);
    expect(await a.nextNotification('callEndingSoon')).toEqual({ endsAt: a.welcome.endsAt, secondsLeft: expect.any(Number) });
    expect(await a.closed).toEqual({ code: 4413, reason: 'MAX_DURATION' });

    const late = new WebSocket(`${base}?token=${startedToken('moved', 'b', new Date(Date.now() - 3000))}`);
    const closed = await new Promise<{ code: number; reason: string }>((resolve) =>
      late.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    expect(closed).toEqual({ code: 4413, reason: 'MAX_DURATION' });
  });
});
