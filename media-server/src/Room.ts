import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { ConsumerStatsInfo, ProducerStatsInfo, RoomStatsInfo } from '@telemed/sdk/protocol';
import type { Logger } from './logger.js';
import type { Peer, ProducerAppData } from './Peer.js';
import { MediaServerError } from './errors.js';

export interface RoomOptions {
  id: string;
  router: types.Router;
  maxParticipants: number;
  logger: Logger;
}

export type RoomEvents = {
  /** The room closed (last participant gone, worker died or server shutdown). */
  close: [];
  /** A participant left the room for good. */
  peerleft: [Peer];
};

interface ConsumerAppData extends types.AppData {
  peerId: string;
  producerPeerId: string;
}

/** A room is one mediasoup router and the participants on it. */
export class Room extends EventEmitter<RoomEvents> {
  readonly id: string;
  readonly router: types.Router;
  readonly #peers = new Map<string, Peer>();
  readonly #maxParticipants: number;
  readonly #logger: Logger;
  #closed = false;

  constructor(options: RoomOptions) {
    super();
    this.id = options.id;
    this.router = options.router;
    this.#maxParticipants = options.maxParticipants;
    this.#logger = options.logger;
    this.router.on('workerclose', () => this.close());
  }

  get closed(): boolean {
    return this.#closed;
  }

  get peers(): ReadonlyMap<string, Peer> {
    return this.#peers;
  }

  peerByIdentity(identity: string): Peer | undefined {
    for (const peer of this.#peers.values()) if (peer.identity === identity) return peer;
    return undefined;
  }

  /** Registers a connected (not yet joined) peer. */
  addPeer(peer: Peer): void {
    if (this.#closed) throw new MediaServerError('INVALID_STATE', 'room is closed');
    if (this.#peers.size >= this.#maxParticipants) {
      throw new MediaServerError('ROOM_FULL', `room is full (${this.#maxParticipants} participants)`);
    }
    this.#peers.set(peer.id, peer);
  }

  /** Marks the peer joined: tells the others, and subscribes it to everything already published. */
  async join(peer: Peer, rtpCapabilities: types.RtpCapabilities): Promise<void> {
    peer.markJoined(rtpCapabilities);
    for (const other of this.joinedPeers(peer)) other.notify('participantJoined', { participant: peer.info() });
    if (!peer.grants.canSubscribe) return;
    for (const other of this.joinedPeers(peer)) {
      for (const producer of other.producers.values()) await this.#consume(peer, other, producer);
    }
  }

  joinedPeers(except?: Peer): Peer[] {
    return [...this.#peers.values()].filter((p) => p.joined && p !== except);
  }

  async createTransport(peer: Peer, webRtcServer: types.WebRtcServer, direction: 'send' | 'recv', enableSctp: boolean): Promise<types.WebRtcTransport> {
    const transport = await this.router.createWebRtcTransport({
      webRtcServer,
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      enableSctp,
      numSctpStreams: { OS: 1024, MIS: 1024 },
      initialAvailableOutgoingBitrate: 1_000_000,
      appData: { peerId: peer.id, direction },
    });
    peer.transports.set(transport.id, transport);
    transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') {
        this.#logger.warn({ peerId: peer.id, transportId: transport.id, state }, 'transport DTLS state');
      }
    });
    transport.observer.on('close', () => peer.transports.delete(transport.id));
    return transport;
  }

  async produce(peer: Peer, options: { transportId: string; kind: types.MediaKind; rtpParameters: types.RtpParameters; source: ProducerAppData['source']; paused: boolean }): Promise<types.Producer<ProducerAppData>> {
    const transport = peer.transport(options.transportId);
    if (transport.appData.direction !== 'send') throw MediaServerError.badRequest('produce needs the send transport');
    const producer = await transport.produce<ProducerAppData>({
      kind: options.kind,
      rtpParameters: options.rtpParameters,
      paused: options.paused,
      appData: { peerId: peer.id, source: options.source },
    });
    peer.producers.set(producer.id, producer);
    producer.observer.on('close', () => peer.producers.delete(producer.id));
    this.#logger.info({ peerId: peer.id, producerId: producer.id, kind: producer.kind, source: options.source }, 'producer created');
    for (const other of this.joinedPeers(peer)) {
      if (other.grants.canSubscribe) await this.#consume(other, peer, producer);
    }
    return producer;
  }

  setProducerPaused(peer: Peer, producerId: string, paused: boolean): Promise<void> {
    const producer = peer.producer(producerId);
    const notification = paused ? 'trackMuted' : 'trackUnmuted';
    for (const other of this.joinedPeers(peer)) other.notify(notification, { participantId: peer.id, producerId });
    return paused ? producer.pause() : producer.resume();
  }

  /** Creates a paused consumer of `producer` for `peer`; the client resumes it once it is ready. */
  async #consume(peer: Peer, producerPeer: Peer, producer: types.Producer<ProducerAppData>): Promise<void> {
    const transport = peer.recvTransport();
    const rtpCapabilities = peer.rtpCapabilities;
    if (!transport || !rtpCapabilities) return;
    if (!this.router.canConsume({ producerId: producer.id, rtpCapabilities })) {
      this.#logger.warn({ peerId: peer.id, producerId: producer.id }, 'peer cannot consume producer (codecs)');
      return;
    }
    let consumer: types.Consumer<ConsumerAppData>;
    try {
      consumer = await transport.consume<ConsumerAppData>({
        producerId: producer.id,
        rtpCapabilities,
        paused: true,
        appData: { peerId: peer.id, producerPeerId: producerPeer.id },
      });
    } catch (error) {
      this.#logger.warn({ err: error, peerId: peer.id, producerId: producer.id }, 'consume failed');
      return;
    }
    peer.consumers.set(consumer.id, consumer);
    consumer.observer.on('close', () => peer.consumers.delete(consumer.id));
    consumer.on('transportclose', () => peer.consumers.delete(consumer.id));
    consumer.on('producerclose', () => {
      peer.consumers.delete(consumer.id);
      peer.notify('consumerClosed', { consumerId: consumer.id });
    });
    consumer.on('producerpause', () => peer.notify('consumerPaused', { consumerId: consumer.id }));
    consumer.on('producerresume', () => peer.notify('consumerResumed', { consumerId: consumer.id }));
    peer.notify('consumerCreated', {
      consumerId: consumer.id,
      producerId: producer.id,
      participantId: producerPeer.id,
      kind: consumer.kind,
      source: producer.appData.source,
      rtpParameters: consumer.rtpParameters as unknown as Record<string, never>,
      producerPaused: consumer.producerPaused,
    });
  }

  /** Removes a peer for good and tells the others why. */
  removePeer(peer: Peer, reason: 'left' | 'disconnected' | 'removed' | 'replaced'): void {
    if (!this.#peers.has(peer.id)) return;
    const wasJoined = peer.joined;
    this.#peers.delete(peer.id);
    peer.close();
    if (wasJoined) for (const other of this.joinedPeers()) other.notify('participantLeft', { participantId: peer.id, reason });
    this.#logger.info({ peerId: peer.id, reason, remaining: this.#peers.size }, 'participant left');
    this.emit('peerleft', peer);
  }

  /** Samples every producer's and consumer's stats now. */
  async getStats(): Promise<RoomStatsInfo> {
    const producers: ProducerStatsInfo[] = [];
    const consumers: ConsumerStatsInfo[] = [];
    const jobs: Promise<void>[] = [];
    for (const peer of this.#peers.values()) {
      for (const producer of peer.producers.values()) {
        jobs.push(producer.getStats().then((stats) => {
          const sum = (key: 'packetCount' | 'byteCount' | 'bitrate' | 'packetsLost'): number =>
            stats.reduce((total, s) => total + (s[key] ?? 0), 0);
          producers.push({
            producerId: producer.id,
            participantId: peer.id,
            kind: producer.kind,
            source: producer.appData.source,
            score: producer.score.reduce((best, s) => Math.max(best, s.score), 0),
            bitrate: sum('bitrate'),
            packetCount: sum('packetCount'),
            byteCount: sum('byteCount'),
            packetsLost: sum('packetsLost'),
            rids: stats.map((s) => s.rid).filter((rid): rid is string => typeof rid === 'string'),
            paused: producer.paused,
          });
        }));
      }
      for (const consumer of peer.consumers.values()) {
        jobs.push(consumer.getStats().then((stats) => {
          const outbound = stats.find((s) => s.type === 'outbound-rtp');
          consumers.push({
            consumerId: consumer.id,
            producerId: consumer.producerId,
            participantId: peer.id,
            kind: consumer.kind,
            score: consumer.score.score,
            producerScore: consumer.score.producerScore,
            bitrate: outbound?.bitrate ?? 0,
            packetCount: outbound?.packetCount ?? 0,
            byteCount: outbound?.byteCount ?? 0,
            packetsLost: outbound?.packetsLost ?? 0,
            paused: consumer.paused,
            producerPaused: consumer.producerPaused,
          });
        }));
      }
    }
    await Promise.allSettled(jobs);
    return { roomId: this.id, participants: this.joinedPeers().length, producers, consumers, sampledAt: new Date().toISOString() };
  }

  /** Closes the room, its router and every peer. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const peer of this.#peers.values()) peer.close();
    this.#peers.clear();
    this.router.close();
    this.emit('close');
  }
}
