// Media events of a room rebuilt after its worker died reach the call records: the rebuilt room is a
// new instance (a later epoch, seq from 1 again), so the API must not take its events for retries of
// the old instance's. Real platform (media server + API); the participants are signaling clients in
// Node (join without media), which is all the room lifecycle needs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Call } from '@telemed/sdk';
import type { ServerMessage } from '@telemed/sdk/protocol';

import { startTestPlatform } from '../platform.js';
import { startDemoCall } from './demo-call.js';
import { service, type TestPlatform } from './harness.js';
import { waitFor } from '@telemed/test-kit';

/** A participant that joins over signaling only and rejoins by itself when the server says so. */
class SignalingParticipant {
  #socket: WebSocket | undefined;
  #closed = false;
  joins = 0;

  constructor(private readonly url: string, private readonly token: string) {}

  async join(): Promise<void> {
    const socket = new WebSocket(`${this.url}?token=${encodeURIComponent(this.token)}`);
    this.#socket = socket;
    const welcome = await new Promise<ServerMessage>((resolve, reject) => {
      socket.once('message', (raw) => resolve(JSON.parse(raw.toString()) as ServerMessage));
      socket.once('error', reject);
    });
    if (welcome.type !== 'notification' || welcome.method !== 'welcome') throw new Error(`expected the welcome, got ${JSON.stringify(welcome)}`);
    const caps = (welcome.data as { routerRtpCapabilities: unknown }).routerRtpCapabilities;
    const joined = new Promise<void>((resolve, reject) => {
      const onMessage = (raw: unknown): void => {
        const message = JSON.parse(String(raw)) as ServerMessage;
        if (message.type !== 'response' || message.id !== 1) return;
        socket.off('message', onMessage);
        if (message.ok) resolve();
        else reject(new Error(`join refused: ${JSON.stringify(message)}`));
      };
      socket.on('message', onMessage);
    });
    socket.send(JSON.stringify({ type: 'request', id: 1, method: 'join', data: { rtpCapabilities: caps } }));
    await joined;
    this.joins++;
    // The server closes the socket when the room's worker died (close code Rejoin): join again.
    socket.once('close', () => {
      if (!this.#closed) void this.join();
    });
  }

  /** Leaves the room (the server closes the socket after answering). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify({ type: 'request', id: 2, method: 'leave', data: {} }));
    else this.#socket?.close();
  }
}

describe('media events after a worker died', () => {
  let platform: TestPlatform;
  const people: SignalingParticipant[] = [];

  beforeAll(async () => {
    platform = (await startTestPlatform({ apiEnv: { SEED_DEMO: 'true' } })) as TestPlatform;
  });

  afterAll(async () => {
    for (const p of people) p.close();
    await platform?.stop();
  });

  it('the rebuilt room\'s events are applied: both participants are back in the call, which goes on', async () => {
    const { alice, call, aliceAccess, greyAccess } = await startDemoCall(platform.apiUrl);
    for (const access of [aliceAccess, greyAccess]) {
      const participant = new SignalingParticipant(access.url, access.token);
      people.push(participant);
      await participant.join();
    }
    const joinedAt = Date.now();
    const inRoom = (c: Call): number => c.participants.filter((p) => p.inRoom).length;
    await waitFor('both participants in the room (API)', async () => (inRoom(await alice.getCall(call.id)) === 2 ? true : undefined), { timeoutMs: 20_000, intervalMs: 200 });
    await new Promise((resolve) => setTimeout(resolve, 2000)); // time in the first instance, counted in mediaSeconds

    const rooms = (await service(platform, 'GET', '/rooms')).body as { rooms: { roomId: string; workerPid: number }[] };
    const pid = rooms.rooms.find((r) => r.roomId === call.id)?.workerPid;
    expect(pid).toBeGreaterThan(0);
    const killedAt = Date.now();
    process.kill(pid!, 'SIGKILL');
    await waitFor('both participants rejoined the rebuilt room', async () => (people.every((p) => p.joins === 2) ? true : undefined), { timeoutMs: 20_000, intervalMs: 100 });
    const rejoinedAt = Date.now();
    const rebuilt = (await service(platform, 'GET', '/rooms')).body as { rooms: { roomId: string; workerPid: number; participants: number }[] };
    expect(rebuilt.rooms.find((r) => r.roomId === call.id)).toMatchObject({ participants: 2 });
    expect(rebuilt.rooms.find((r) => r.roomId === call.id)?.workerPid).not.toBe(pid);
    console.log(`[media-events] worker ${pid} killed: both participants rejoined the rebuilt room after ${rejoinedAt - killedAt} ms`);
    await new Promise((resolve) => setTimeout(resolve, 3000)); // time in the rebuilt instance
    const during = await alice.getCall(call.id);
    expect(during.status).toBe('active'); // a dead worker does not end the call
    expect(inRoom(during)).toBe(2);

    // Leaving ends the rebuilt room; its events (seq 4.. again) end the call and count its time.
    const leftAt = Date.now();
    for (const p of people) p.close();
    const ended = await waitFor('the call ended by the rebuilt room', async () => {
      const c = await alice.getCall(call.id);
      return c.status === 'ended' ? c : undefined;
    }, { timeoutMs: 40_000, intervalMs: 250 }).catch(async (error: unknown) => {
      throw new Error(`${String(error)}; the call is ${JSON.stringify(await alice.getCall(call.id))}`);
    });
    const expected = (killedAt - joinedAt + (leftAt - rejoinedAt)) / 1000;
    console.log(`[media-events] call ended (${ended.endReason}); media seconds ${ended.participants.map((p) => p.mediaSeconds).join(', ')} (expected ≈ ${expected.toFixed(1)})`);
    expect(ended.endReason).toBe('room_empty');
    // Both instances' time counts: the rebuilt room's participant_joined and participant_left were applied.
    for (const p of ended.participants) expect(p.mediaSeconds).toBeGreaterThanOrEqual(expected - 1);
  });
});
