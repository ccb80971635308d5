// Media events of a room rebuilt after its worker died reach the call records: the rebuilt room is a
// new instance (a later epoch, seq from 1 again), so the API must not take its events for retries of
// the old instance's. Real platform (media server + API); the participants are signaling clients in
// Node (join without media), which is all the room lifecycle needs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call } from '@telemed/sdk';

import { startTestPlatform } from '../platform.js';
import { startDemoCall } from './demo-call.js';
import { service, type TestPlatform } from './harness.js';
import { TestSignalingClient, waitFor } from '@telemed/test-kit';

/** A participant that joins over signaling only and rejoins by itself when the server says so. */
class SignalingParticipant {
  #client: TestSignalingClient | undefined;
  #closed = false;
  joins = 0;

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  async join(): Promise<void> {
    const client = await TestSignalingClient.connect({ url: this.url, token: this.token });
    this.#client = client;
    await client.request('join', { rtpCapabilities: client.welcome.routerRtpCapabilities });
    this.joins++;
    // The server closes the socket when the room's worker died (close code Rejoin): join again.
    void client.closed.then(() => {
      if (!this.#closed) void this.join();
    });
  }

  /** Leaves the room (the server closes the socket after answering). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const client = this.#client;
    if (client?.socket.readyState === client?.socket.OPEN) void client?.request('leave', {}).catch(() => undefined);
    else client?.socket.close();
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

  it("the rebuilt room's events are applied: both participants are back in the call, which goes on", async () => {
    const { alice, call, aliceAccess, greyAccess } = await startDemoCall(platform.apiUrl);
    for (const access of [aliceAccess, greyAccess]) {
      const participant = new SignalingParticipant(access.url, access.token);
      people.push(participant);
      await participant.join();
    }
    const joinedAt = Date.now();
    const inRoom = (c: Call): number => c.participants.filter((p) => p.inRoom).length;
    await waitFor('both participants in the room (API)', async () => (inRoom(await alice.getCall(call.id)) === 2 ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    await new Promise((resolve) => setTimeout(resolve, 2000)); // time in the first instance, counted in mediaSeconds

    const rooms = (await service(platform, 'GET', '/rooms')).body as { rooms: { roomId: string; workerPid: number }[] };
    const pid = rooms.rooms.find((r) => r.roomId === call.id)?.workerPid;
    expect(pid).toBeGreaterThan(0);
    const killedAt = Date.now();
    process.kill(pid!, 'SIGKILL');
    await waitFor('both participants rejoined the rebuilt room', async () => (people.every((p) => p.joins === 2) ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 100,
    });
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
    const ended = await waitFor(
      'the call ended by the rebuilt room',
      async () => {
        const c = await alice.getCall(call.id);
        return c.status === 'ended' ? c : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 250 },
    ).catch(async (error: unknown) => {
      throw new Error(`${String(error)}; the call is ${JSON.stringify(await alice.getCall(call.id))}`);
    });
    const expected = (killedAt - joinedAt + (leftAt - rejoinedAt)) / 1000;
    console.log(
      `[media-events] call ended (${ended.endReason}); media seconds ${ended.participants.map((p) => p.mediaSeconds).join(', ')} (expected ≈ ${expected.toFixed(1)})`,
    );
    expect(ended.endReason).toBe('room_empty');
    // Both instances' time counts: the rebuilt room's participant_joined and participant_left were applied.
    for (const p of ended.participants) expect(p.mediaSeconds).toBeGreaterThanOrEqual(expected - 1);
  });
});
