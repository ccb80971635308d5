// The README promises that every error the SDK raises is a TelemedError with a code: the input and
// environment errors an app can provoke without a server are checked here.
import { describe, expect, it } from 'vitest';
import { TelemedClient } from './client/TelemedClient.js';
import { TelemedError } from './errors.js';
import { ChatChannel } from './room/ChatChannel.js';
import { LocalTrack } from './track/LocalTrack.js';

const fakeTrack = (kind: 'audio' | 'video'): MediaStreamTrack =>
  ({ kind, addEventListener: () => undefined, removeEventListener: () => undefined }) as unknown as MediaStreamTrack;

async function errorOf(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('errors the SDK raises', () => {
  it('an empty or oversized chat message is a TelemedError BAD_REQUEST', async () => {
    const chat = new ChatChannel(() => undefined);
    for (const text of ['', 'x'.repeat(4001)]) {
      const error = await errorOf(() => chat.send(text, { sid: 'p1', identity: 'alice' }));
      expect(error).toBeInstanceOf(TelemedError);
      expect(error).toMatchObject({ code: 'BAD_REQUEST' });
    }
  });

  it('replacing a microphone track with a video track is a TelemedError BAD_REQUEST', async () => {
    const track = new LocalTrack(fakeTrack('audio'), 'microphone');
    const error = await errorOf(() => track.replaceTrack(fakeTrack('video')));
    expect(error).toBeInstanceOf(TelemedError);
    expect(error).toMatchObject({ code: 'BAD_REQUEST', message: 'the audio track cannot be replaced by a video track' });
  });

  it('realtime events without a WebSocket implementation is a TelemedError UNSUPPORTED_BROWSER', async () => {
    const client = new TelemedClient({ baseUrl: 'http://api.test', WebSocket: undefined });
    const error = await errorOf(() => client.connectEvents());
    expect(error).toBeInstanceOf(TelemedError);
    expect(error).toMatchObject({ code: 'UNSUPPORTED_BROWSER' });
  });
});
