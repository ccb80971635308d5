import { EventEmitter } from 'node:events';
import type { types as msTypes } from 'mediasoup-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { waitFor } from '@telemed/test-kit';
import { ChatChannel, type ChatMessage } from './ChatChannel.js';

type ReadyState = 'connecting' | 'open' | 'closed';

/** A data channel end as mediasoup-client shows it: readyState, open/message events, observer close. */
class FakeChannel extends EventEmitter {
  readyState: ReadyState = 'connecting';
  readonly observer = new EventEmitter();
  constructor(
    readonly id: string,
    readonly onSend: (data: string) => void = () => undefined,
  ) {
    super();
  }
  open(): void {
    this.readyState = 'open';
    this.emit('open');
  }
  send(data: string): void {
    if (this.readyState !== 'open') throw new Error('send on a channel that is not open');
    this.onSend(data);
  }
  close(): void {
    this.readyState = 'closed';
    this.observer.emit('close');
  }
}

/**
 * The SFU's data path: a message reaches each consumer of the sender's producer whose channel is
 * open, and is dropped for the others (mediasoup sends nothing on an SCTP association that is
 * still connecting).
 */
class FakeSfu {
  readonly #consumers = new Map<string, FakeChannel[]>();
  readonly hellos: string[] = [];
  /** Everything sent, in order: messages by text, hellos by kind. */
  readonly sent: { from: string; text?: string; hello?: 'first' | 'reply' }[] = [];

  participant(sid: string): { sid: string; identity: string; chat: ChatChannel; received: ChatMessage[] } {
    const received: ChatMessage[] = [];
    const chat = new ChatChannel((message) => received.push(message));
    this.openChannel(sid, chat);
    return { sid, identity: `${sid}@demo`, chat, received };
  }

  /** Opens `sid`'s sending channel on a new send transport (a join or a rejoin). */
  openChannel(sid: string, chat: ChatChannel): void {
    const sendTransport = {
      produceData: async () => {
        const producer = new FakeChannel(`p-${sid}`, (data) => {
          const wire = JSON.parse(data) as { type?: string; reply?: boolean; text?: string };
          if (wire.type === 'hello') this.hellos.push(sid);
          this.sent.push(wire.type === 'hello' ? { from: sid, hello: wire.reply ? 'reply' : 'first' } : { from: sid, text: wire.text });
          for (const consumer of this.#consumers.get(sid) ?? []) if (consumer.readyState === 'open') setTimeout(() => consumer.emit('message', data), 1);
        });
        return producer;
      },
    };
    void chat.open(sendTransport as unknown as msTypes.Transport).then((producer) => (producer as unknown as FakeChannel).open());
  }

  /** `receiver` gets a consumer of `sender`'s channel, not open until `open()` is called on it. */
  async connect(receiver: { chat: ChatChannel }, sender: { sid: string; identity: string }): Promise<FakeChannel> {
    const consumer = new FakeChannel(`c-${sender.sid}`);
    const recvTransport = { consumeData: async () => consumer };
    await receiver.chat.consume(
      recvTransport as unknown as msTypes.Transport,
      { dataConsumerId: consumer.id, dataProducerId: `p-${sender.sid}`, sctpStreamParameters: {}, label: 'chat', protocol: 'telemed-chat-1' },
      () => sender,
    );
    this.#consumers.set(sender.sid, [...(this.#consumers.get(sender.sid) ?? []), consumer]);
    return consumer;
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

describe('ChatChannel', () => {
  afterEach(() => vi.useRealTimers());

  it("a message sent before the receiver's channel opened arrives once it opens, once", async () => {
    const sfu = new FakeSfu();
    const alice = sfu.participant('alice');
    const grey = sfu.participant('grey');
    (await sfu.connect(alice, grey)).open();
    const greyFromAlice = await sfu.connect(grey, alice);

    await alice.chat.send('before you were there', alice);
    await settle();
    expect(grey.received).toEqual([]);

    greyFromAlice.open();
    await waitFor('the message sent again', () => (grey.received.length > 0 ? true : undefined), { timeoutMs: 2000 });
    await alice.chat.send('and after', alice);
    await settle();
    expect(grey.received.map((m) => [m.text, m.from, m.fromIdentity])).toEqual([
      ['before you were there', 'alice', 'alice@demo'],
      ['and after', 'alice', 'alice@demo'],
    ]);
    // Alice's own hello (her channel from Grey opened first) was lost at Grey's; Grey's was
    // answered by Alice's reply, and a reply is not answered.
    expect(sfu.hellos).toEqual(['alice', 'grey', 'alice']);
  });

  it("whichever side's channel opens last, both directions catch up", async () => {
    const sfu = new FakeSfu();
    const alice = sfu.participant('alice');
    const grey = sfu.participant('grey');
    const aliceFromGrey = await sfu.connect(alice, grey);
    const greyFromAlice = await sfu.connect(grey, alice);
    await alice.chat.send('from alice', alice);
    await grey.chat.send('from grey', grey);

    // Grey's channel from Alice opens first: its hello is dropped on the way to Alice's, not yet open.
    greyFromAlice.open();
    await settle();
    aliceFromGrey.open();
    await waitFor('both messages', () => (alice.received.length > 0 && grey.received.length > 0 ? true : undefined), { timeoutMs: 2000 });
    await settle();
    expect(alice.received.map((m) => m.text)).toEqual(['from grey']);
    expect(grey.received.map((m) => m.text)).toEqual(['from alice']);
  });

  it('sends again only the messages of the last 30 s', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const sfu = new FakeSfu();
    const alice = sfu.participant('alice');
    const grey = sfu.participant('grey');
    (await sfu.connect(alice, grey)).open();
    const greyFromAlice = await sfu.connect(grey, alice);
    await alice.chat.send('long ago', alice);
    vi.setSystemTime(Date.now() + 31_000);
    await alice.chat.send('just now', alice);

    greyFromAlice.open();
    await waitFor('the recent message', () => (grey.received.length > 0 ? true : undefined), { timeoutMs: 2000 });
    await settle();
    expect(grey.received.map((m) => m.text)).toEqual(['just now']);
  });

  it('a participant who may not send receives, and sends no hello', async () => {
    const sfu = new FakeSfu();
    const alice = sfu.participant('alice');
    const viewer = { sid: 'viewer', identity: 'viewer@demo', received: [] as ChatMessage[], chat: undefined as unknown as ChatChannel };
    viewer.chat = new ChatChannel((message) => viewer.received.push(message));
    const viewerFromAlice = await sfu.connect(viewer, alice);
    viewerFromAlice.open();
    await alice.chat.send('hello viewer', alice);
    await waitFor('the message', () => (viewer.received.length > 0 ? true : undefined), { timeoutMs: 2000 });
    expect(sfu.hellos).toEqual([]);
    await expect(viewer.chat.send('may I?', viewer)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('a message sent while the room rejoins waits for the new channel, and fails if the room disconnects or may no longer send', async () => {
    const sfu = new FakeSfu();
    const alice = sfu.participant('alice');
    const grey = sfu.participant('grey');
    (await sfu.connect(grey, alice)).open();

    alice.chat.suspend();
    const during = alice.chat.send('during the move', alice);
    await settle();
    expect(grey.received).toEqual([]);
    sfu.openChannel('alice', alice.chat);
    await during;
    await waitFor('the message on the new channel', () => (grey.received.length > 0 ? true : undefined), { timeoutMs: 2000 });
    expect(grey.received.map((m) => m.text)).toEqual(['during the move']);

    alice.chat.suspend();
    const refused = alice.chat.send('no grant after the rejoin', alice);
    alice.chat.refuseSending();
    await expect(refused).rejects.toMatchObject({ code: 'FORBIDDEN' });

    sfu.openChannel('alice', alice.chat);
    alice.chat.suspend();
    const closed = alice.chat.send('the room gave up', alice);
    alice.chat.close();
    await expect(closed).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
  });

  it('a flood of hellos gets one repeat at once and one after the interval, not one per hello', async () => {
    const sfu = new FakeSfu();
    const alice = sfu.participant('alice');
    const grey = sfu.participant('grey');
    (await sfu.connect(grey, alice)).open();
    const aliceFromGrey = await sfu.connect(alice, grey);
    aliceFromGrey.open();
    await settle();
    await alice.chat.send('one', alice);
    await alice.chat.send('two', alice);
    const repeats = (): number => sfu.sent.filter((s) => s.from === 'alice' && s.text === 'one').length - 1;
    const replies = (): number => sfu.sent.filter((s) => s.from === 'alice' && s.hello === 'reply').length;
    const before = { repeats: repeats(), replies: replies() };

    // Past the interval since the repeat the opening handshake caused.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 3000);
    const hello = JSON.stringify({ type: 'hello', reply: false });
    for (let i = 0; i < 20; i++) aliceFromGrey.emit('message', hello);
    await settle();
    expect({ repeats: repeats() - before.repeats, replies: replies() - before.replies }).toEqual({ repeats: 1, replies: 1 });
    // The 19 others are owed one repeat (and one reply), sent once the interval has passed (a real 2 s).
    await waitFor('the owed repeat', () => (repeats() - before.repeats === 2 ? true : undefined), { timeoutMs: 5000 });
    await settle();
    expect({ repeats: repeats() - before.repeats, replies: replies() - before.replies }).toEqual({ repeats: 2, replies: 2 });
    expect(grey.received.map((m) => m.text)).toEqual(['one', 'two']);
  });
});
