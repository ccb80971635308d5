// The room's two audiences (STYLE: mediasoup's `observer`): its own listeners and the monitoring
// ones get every event, owners first, and a monitoring listener that throws harms neither side.
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { Room } from './Room.js';

describe('Room.observer', () => {
  let worker: types.Worker;

  beforeAll(async () => {
    worker = await mediasoup.createWorker({ logLevel: 'warn' });
  });
  afterAll(() => worker?.close());

  async function newRoom(): Promise<Room> {
    const router = await worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
    const webRtcServer = await worker.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1', port: 0 }] });
    router.observer.once('close', () => webRtcServer.close());
    return Room.create({ id: `room-${Math.random()}`, router: { workerIndex: 0, router, webRtcServer }, maxParticipants: 4, logger: createLogger('silent') });
  }

  it("gets the room's events after its own listeners; a throwing observer stops neither", async () => {
    const room = await newRoom();
    const calls: string[] = [];
    room.observer.on('close', () => {
      calls.push('observer 1');
      throw new Error('a monitoring bug');
    });
    room.on('close', (reason) => calls.push(`owner ${reason}`));
    room.observer.on('close', (reason) => calls.push(`observer 2 ${reason}`));
    room.close('max_duration');
    expect(calls).toEqual(['owner max_duration', 'observer 1', 'observer 2 max_duration']);
    expect(room.closed).toBe(true);
  });

  it('keeps the two sets of listeners apart: removing all of one leaves the other', async () => {
    const room = await newRoom();
    const calls: string[] = [];
    room.on('close', () => calls.push('owner'));
    room.observer.on('close', () => calls.push('observer'));
    room.observer.removeAllListeners();
    room.close();
    expect(calls).toEqual(['owner']);
  });
});
