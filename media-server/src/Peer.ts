import type { types } from 'mediasoup';
import type {
  ConnectionQualityLevel,
  ParticipantInfo,
  PublishedTrackInfo,
  RoomGrants,
  ServerNotificationMethod,
  ServerNotifications,
  TrackSource,
} from '@telemed/sdk/protocol';
import { randomBytes } from 'node:crypto';
import { MediaServerError } from './errors.js';

export interface PeerOptions {
  id: string;
  identity: string;
  name: string;
  grants: RoomGrants;
  /** Sends a notification to this participant's signaling connection. */
  notify: <N extends ServerNotificationMethod>(method: N, data: ServerNotifications[N]) => void;
}

export interface ProducerAppData extends types.AppData {
  peerId: string;
  source: TrackSource;
  /** Worker index of the router the producer lives on. */
  workerIndex?: number;
}

export type PeerState = 'connected' | 'joined' | 'closed';

/** One participant's media state in a room: its transports, producers and consumers. */
export class Peer {
  readonly id: string;
  readonly identity: string;
  readonly name: string;
  readonly grants: RoomGrants;
  readonly notify: PeerOptions['notify'];
  readonly #transports = new Map<string, types.WebRtcTransport>();
  readonly #producers = new Map<string, types.Producer<ProducerAppData>>();
  readonly #consumers = new Map<string, types.Consumer>();
  readonly #subscriptions = new Set<string>();
  readonly #dataProducers = new Map<string, types.DataProducer>();
  readonly #dataConsumers = new Map<string, types.DataConsumer>();
  /** Proves a reconnecting socket owns this session (sent in the welcome, only to this peer). */
  readonly resumeKey = randomBytes(18).toString('base64url');
  rtpCapabilities: types.RtpCapabilities | undefined;
  /** The worker (index) of the room's router this peer sends and receives on, and its WebRtcServer. */
  workerIndex = 0;
  /** When the participant joined the room (its `join` request), for the service API. */
  joinedAt: Date | undefined;
  /** The participant's own SDK's grade of its link (reportConnectionQuality), relayed to the others. */
  connectionQuality: ConnectionQualityLevel | undefined;
  webRtcServer: types.WebRtcServer | undefined;
  #state: PeerState = 'connected';
  #autoSubscribe = true;

  constructor(options: PeerOptions) {
    this.id = options.id;
    this.identity = options.identity;
    this.name = options.name;
    this.grants = options.grants;
    this.notify = options.notify;
  }

  get transports(): ReadonlyMap<string, types.WebRtcTransport> {
    return this.#transports;
  }

  get producers(): ReadonlyMap<string, types.Producer<ProducerAppData>> {
    return this.#producers;
  }

  get consumers(): ReadonlyMap<string, types.Consumer> {
    return this.#consumers;
  }

  get dataProducers(): ReadonlyMap<string, types.DataProducer> {
    return this.#dataProducers;
  }

  get dataConsumers(): ReadonlyMap<string, types.DataConsumer> {
    return this.#dataConsumers;
  }

  // Each add keeps the object until mediasoup closes it (itself, its transport, its producer or router).
  addTransport(transport: types.WebRtcTransport): void {
    track(this.#transports, transport);
  }

  addProducer(producer: types.Producer<ProducerAppData>): void {
    track(this.#producers, producer);
  }

  addConsumer(consumer: types.Consumer): void {
    track(this.#consumers, consumer);
  }

  addDataProducer(dataProducer: types.DataProducer): void {
    track(this.#dataProducers, dataProducer);
  }

  addDataConsumer(dataConsumer: types.DataConsumer): void {
    track(this.#dataConsumers, dataConsumer);
  }

  assignWorker(workerIndex: number, webRtcServer: types.WebRtcServer): void {
    this.workerIndex = workerIndex;
    this.webRtcServer = webRtcServer;
  }

  get state(): PeerState {
    return this.#state;
  }

  get joined(): boolean {
    return this.#state === 'joined';
  }

  /** Whether the room consumes every track for this peer (its join's choice), or only those it subscribes to. */
  get autoSubscribe(): boolean {
    return this.#autoSubscribe;
  }

  markJoined(rtpCapabilities: types.RtpCapabilities, autoSubscribe = true): void {
    if (this.#state !== 'connected') throw MediaServerError.invalidState(`cannot join in state ${this.#state}`);
    this.rtpCapabilities = rtpCapabilities;
    this.#autoSubscribe = autoSubscribe;
    this.joinedAt = new Date();
    this.#state = 'joined';
  }

  transport(id: string): types.WebRtcTransport {
    const transport = this.#transports.get(id);
    if (!transport) throw MediaServerError.notFound('transport', id);
    return transport;
  }

  /** The transport this peer receives on (`appData.direction === 'recv'`). */
  recvTransport(): types.WebRtcTransport | undefined {
    for (const transport of this.#transports.values()) {
      if (transport.appData.direction === 'recv') return transport;
    }
    return undefined;
  }

  producer(id: string): types.Producer<ProducerAppData> {
    const producer = this.#producers.get(id);
    if (!producer) throw MediaServerError.notFound('producer', id);
    return producer;
  }

  dataProducer(id: string): types.DataProducer {
    const dataProducer = this.#dataProducers.get(id);
    if (!dataProducer) throw MediaServerError.notFound('data producer', id);
    return dataProducer;
  }

  consumer(id: string): types.Consumer {
    const consumer = this.#consumers.get(id);
    if (!consumer) throw MediaServerError.notFound('consumer', id);
    return consumer;
  }

  /** This peer's consumer of a producer, if it receives it. */
  consumerOf(producerId: string): types.Consumer | undefined {
    for (const consumer of this.#consumers.values()) if (consumer.producerId === producerId) return consumer;
    return undefined;
  }

  info(): ParticipantInfo {
    return {
      id: this.id,
      identity: this.identity,
      name: this.name,
      ...(this.connectionQuality ? { connectionQuality: this.connectionQuality } : {}),
      tracks: [...this.producers.values()].map(trackInfo),
    };
  }

  /**
   * Reserves this peer's subscription to a (data) producer before any await, so that join() and a
   * concurrent produce() never both create a consumer for it. False when one exists or is pending.
   */
  reserveSubscription(producerId: string): boolean {
    if (this.#subscriptions.has(producerId)) return false;
    this.#subscriptions.add(producerId);
    return true;
  }

  /** True while a consumer of the (data) producer exists or is being made. */
  hasSubscription(producerId: string): boolean {
    return this.#subscriptions.has(producerId);
  }

  /** Frees a reservation when the consumer could not be made or has closed. */
  releaseSubscription(producerId: string): void {
    this.#subscriptions.delete(producerId);
  }

  /** Closes every transport (and so every producer and consumer). Idempotent. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#subscriptions.clear();
    for (const transport of this.#transports.values()) transport.close();
    // Remote peers' producers live on pipe transports the peer does not own: forget them too.
    for (const map of [this.#transports, this.#producers, this.#consumers, this.#dataProducers, this.#dataConsumers]) map.clear();
  }
}

/** A producer as the other participants see it. */
export function trackInfo(producer: types.Producer<ProducerAppData>): PublishedTrackInfo {
  return { producerId: producer.id, kind: producer.kind, source: producer.appData.source, paused: producer.paused };
}

/** Keeps `item` in `map` until it closes. */
function track<T extends { id: string; closed: boolean; observer: { once(event: 'close', listener: () => void): unknown } }>(
  map: Map<string, T>,
  item: T,
): void {
  if (item.closed) return;
  map.set(item.id, item);
  item.observer.once('close', () => {
    if (map.get(item.id) === item) map.delete(item.id);
  });
}
