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

interface Wire {
  id: string;
  text: string;
  timestamp: number;
}

/**
 * In-call chat over reliable, ordered SCTP data channels through the SFU: one data producer per
 * sender, one data consumer per other participant. The sender's identity comes from the server's
 * notification, never from the message.
 */
export class ChatChannel {
  readonly #onMessage: (message: ChatMessage) => void;
  #producer: msTypes.DataProducer | undefined;
  #opening: Promise<msTypes.DataProducer> | undefined;
  readonly #consumers = new Set<msTypes.DataConsumer>();
  readonly #seen = new Set<string>();

  constructor(onMessage: (message: ChatMessage) => void) {
    this.#onMessage = onMessage;
  }

  /** Opens this participant's sending channel on a (new) send transport. */
  open(sendTransport: msTypes.Transport): Promise<msTypes.DataProducer> {
    this.#producer?.close();
    this.#opening = sendTransport.produceData({ ordered: true, label: LABEL, protocol: PROTOCOL }).then((producer) => {
      this.#producer = producer;
      return producer;
    });
    return this.#opening;
  }

  /** Sends a message to every other participant; resolves once it is handed to the channel. */
  async send(text: string, from: { sid: string; identity: string }): Promise<ChatMessage> {
    if (text.length === 0 || text.length > MAX_TEXT) throw new TelemedError('BAD_REQUEST', `a chat message must have 1-${MAX_TEXT} characters`);
    if (!this.#opening) throw new TelemedError('FORBIDDEN', 'this room token may not send chat messages (canPublishData)');
    const producer = await this.#opening;
    if (producer.readyState !== 'open') {
      await new Promise<void>((resolve, reject) => {
        producer.observer.once('close', () => reject(new TelemedError('CONNECTION_CLOSED', 'the chat channel closed')));
        producer.once('open', () => resolve());
      });
    }
    const wire: Wire = { id: crypto.randomUUID(), text, timestamp: Date.now() };
    producer.send(JSON.stringify(wire));
    return { ...wire, from: from.sid, fromIdentity: from.identity };
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
    consumer.on('message', (raw: unknown) => {
      if (typeof raw !== 'string') return;
      let wire: Partial<Wire>;
      try {
        wire = JSON.parse(raw) as Partial<Wire>;
      } catch {
        return;
      }
      const from = sender();
      if (!from || typeof wire.id !== 'string' || typeof wire.text !== 'string' || typeof wire.timestamp !== 'number') return;
      if (this.#seen.has(wire.id)) return;
      this.#seen.add(wire.id);
      this.#onMessage({ id: wire.id, text: wire.text.slice(0, MAX_TEXT), timestamp: wire.timestamp, from: from.sid, fromIdentity: from.identity });
    });
  }

  close(): void {
    this.#producer?.close();
    this.#producer = undefined;
    this.#opening = undefined;
    for (const consumer of this.#consumers) consumer.close();
    this.#consumers.clear();
  }
}
