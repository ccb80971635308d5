import type { types as msTypes } from 'mediasoup-client';
import { TelemedError } from '../errors.js';
import type { JsonObject } from '../protocol/messages.js';

/** An in-call chat message. */
export interface ChatMessage {
  /** Unique per message (the sender generates it). */
  id: string;
  text: string;
  /** Sender's participant sid; its identity is in `fromIdentity`. */
  from: string;
  fromIdentity: string;
  /** When the sender sent it, ms since the epoch (sender's clock). */
  timestamp: number;
}

const LABEL = 'chat';
const PROTOCOL = 'telemed-chat-1';
const MAX_TEXT = 4000;
/** Sent messages this recent are sent again when another participant's channel opens late. */
const RESEND_WINDOW_MS = 30_000;
const MAX_RESENT = 50;
/**
 * Repeats (and hello replies) at most this often, however many hellos arrive: any participant may
 * send hellos, and each one made every other participant send up to MAX_RESENT messages to the room.
 */
const RESEND_MIN_INTERVAL_MS = 2_000;

const mayNotSend = (): TelemedError => new TelemedError('FORBIDDEN', 'this room token may not send chat messages (canPublishData)');

interface Wire {
  id: string;
  text: string;
  timestamp: number;
}

/**
 * "My channel from you is open": the others send their recent messages again; a first hello
 * (not a reply) is answered with a reply, so that whichever side's channel opened last, both
 * directions are caught up. Older SDKs ignore it (it has no text).
 */
interface Hello {
  type: 'hello';
  reply: boolean;
}

/**
 * In-call chat over reliable, ordered SCTP data channels through the SFU: one data producer per
 * sender, one data consumer per other participant. The sender's identity comes from the server's
 * notification, never from the message.
 *
 * The SFU drops a message for a receiver whose channel is not open yet (mediasoup sends nothing
 * on an SCTP association that is still connecting): a participant who joins, or rejoins on
 * another media node, would lose what was sent meanwhile. So each sender keeps its messages of
 * the last RESEND_WINDOW_MS and sends them again on a Hello; receivers drop the repeats by id.
 */
export class ChatChannel {
  readonly #onMessage: (message: ChatMessage) => void;
  #producer: msTypes.DataProducer | undefined;
  #opening: Promise<msTypes.DataProducer> | undefined;
  /** Settles the `#opening` that messages sent during a rejoin wait for. */
  #reopening: { resolve: (producer: Promise<msTypes.DataProducer>) => void; reject: (error: TelemedError) => void } | undefined;
  readonly #consumers = new Set<msTypes.DataConsumer>();
  readonly #seen = new Set<string>();
  /** This participant's recent messages, oldest first; kept across a rejoin, not a new connect. */
  #sent: Wire[] = [];
  #lastResendAt = -Infinity;
  /** A repeat owed to hellos that came within RESEND_MIN_INTERVAL_MS of the last one. */
  #resendTimer: ReturnType<typeof setTimeout> | undefined;
  #replyOwed = false;

  constructor(onMessage: (message: ChatMessage) => void) {
    this.#onMessage = onMessage;
  }

  /** Opens this participant's sending channel on a (new) send transport. */
  open(sendTransport: msTypes.Transport): Promise<msTypes.DataProducer> {
    this.#producer?.close();
    const opening = sendTransport.produceData({ ordered: true, label: LABEL, protocol: PROTOCOL }).then((producer) => {
      this.#producer = producer;
      return producer;
    });
    this.#opening = opening;
    this.#reopening?.resolve(opening);
    this.#reopening = undefined;
    return opening;
  }

  /**
   * The session is lost and a rejoin will open the channel again: messages sent meanwhile wait
   * for it (or fail with the room) instead of being refused.
   */
  suspend(): void {
    this.#closeChannels();
    if (!this.#opening || this.#reopening) return;
    this.#opening = new Promise((resolve, reject) => (this.#reopening = { resolve, reject }));
    this.#opening.catch(() => undefined);
  }

  /** The rejoined session may not send chat (its token lacks canPublishData). */
  refuseSending(): void {
    this.#opening = undefined;
    this.#reopening?.reject(mayNotSend());
    this.#reopening = undefined;
  }

  /** Sends a message to every other participant; resolves once it is handed to the channel. */
  async send(text: string, from: { sid: string; identity: string }): Promise<ChatMessage> {
    if (text.length === 0 || text.length > MAX_TEXT) throw new TelemedError('BAD_REQUEST', `a chat message must have 1-${MAX_TEXT} characters`);
    const wire: Wire = { id: crypto.randomUUID(), text, timestamp: Date.now() };
    await this.#transmit(wire);
    this.#sent.push(wire);
    if (this.#sent.length > MAX_RESENT) this.#sent.shift();
    return { ...wire, from: from.sid, fromIdentity: from.identity };
  }

  /** Sends on this participant's channel once it is open. */
  async #transmit(payload: Wire | Hello): Promise<void> {
    if (!this.#opening) throw mayNotSend();
    const producer = await this.#opening;
    if (producer.readyState !== 'open') {
      await new Promise<void>((resolve, reject) => {
        producer.observer.once('close', () => reject(new TelemedError('CONNECTION_CLOSED', 'the chat channel closed')));
        producer.once('open', () => resolve());
      });
    }
    producer.send(JSON.stringify(payload));
  }

  /** Best effort: a participant who may not send (or a closing channel) sends no hello or repeat. */
  #transmitQuietly(payload: Wire | Hello): void {
    if (this.#opening) this.#transmit(payload).catch(() => undefined);
  }

  /** Repeats at once, or once the interval since the last repeat has passed (however many hellos came meanwhile). */
  #answerHello(reply: boolean): void {
    if (!reply) this.#replyOwed = true;
    if (this.#resendTimer) return;
    const wait = this.#lastResendAt + RESEND_MIN_INTERVAL_MS - Date.now();
    if (wait <= 0) return this.#resendRecent();
    this.#resendTimer = setTimeout(() => {
      this.#resendTimer = undefined;
      this.#resendRecent();
    }, wait);
  }

  #resendRecent(): void {
    this.#lastResendAt = Date.now();
    const since = Date.now() - RESEND_WINDOW_MS;
    this.#sent = this.#sent.filter((wire) => wire.timestamp >= since);
    for (const wire of this.#sent) this.#transmitQuietly(wire);
    if (this.#replyOwed) this.#transmitQuietly({ type: 'hello', reply: true });
    this.#replyOwed = false;
  }

  /** Receives another participant's channel. */
  async consume(
    recvTransport: msTypes.Transport,
    data: { dataConsumerId: string; dataProducerId: string; sctpStreamParameters: JsonObject; label: string; protocol: string },
    sender: () => { sid: string; identity: string } | undefined,
  ): Promise<void> {
    if (data.label !== LABEL) return;
    const consumer = await recvTransport.consumeData({
      id: data.dataConsumerId,
      dataProducerId: data.dataProducerId,
      sctpStreamParameters: data.sctpStreamParameters as unknown as msTypes.SctpStreamParameters,
      label: data.label,
      protocol: data.protocol,
    });
    this.#consumers.add(consumer);
    consumer.observer.once('close', () => this.#consumers.delete(consumer));
    const greet = (): void => this.#transmitQuietly({ type: 'hello', reply: false });
    if (consumer.readyState === 'open') greet();
    else consumer.once('open', greet);
    consumer.on('message', (raw: unknown) => {
      if (typeof raw !== 'string') return;
      let wire: Partial<Wire & Hello>;
      try {
        wire = JSON.parse(raw) as Partial<Wire & Hello>;
      } catch {
        return;
      }
      const from = sender();
      if (!from) return;
      if (wire.type === 'hello') return this.#answerHello(wire.reply !== false);
      if (typeof wire.id !== 'string' || typeof wire.text !== 'string' || typeof wire.timestamp !== 'number') return;
      if (this.#seen.has(wire.id)) return;
      this.#seen.add(wire.id);
      this.#onMessage({ id: wire.id, text: wire.text.slice(0, MAX_TEXT), timestamp: wire.timestamp, from: from.sid, fromIdentity: from.identity });
    });
  }

  close(): void {
    this.#closeChannels();
    this.#opening = undefined;
    this.#reopening?.reject(new TelemedError('CONNECTION_CLOSED', 'the room disconnected before the chat channel opened again'));
    this.#reopening = undefined;
  }

  #closeChannels(): void {
    clearTimeout(this.#resendTimer);
    this.#resendTimer = undefined;
    this.#replyOwed = false;
    this.#producer?.close();
    this.#producer = undefined;
    for (const consumer of this.#consumers) consumer.close();
    this.#consumers.clear();
  }
}
