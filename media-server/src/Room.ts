import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { RoomStatsInfo } from '@telemed/sdk/protocol';
import type { Logger } from './logger.js';
import type { Peer, ProducerAppData } from './Peer.js';
import { MediaServerError } from './errors.js';
import { sampleRoom } from './RoomStats.js';
import { SpeakerObservers } from './SpeakerObservers.js';

export interface RoomOptions {
  id: string;
  router: types.Router;
  maxParticipants: number;
  logger: Logger;
  /** Interval of the audioLevels notifications, ms. */
  audioLevelIntervalMs?: number;
}

/** Why a room closed (the media events' `room_finished.reason`). */
export type RoomCloseReason = 'empty' | 'max_duration' | 'worker_died' | 'shutdown';

export type PeerLeftReason = 'left' | 'disconnected' | 'removed' | 'replaced';

export type RoomEvents = {
  /** The room closed (last participant gone, worker died, max duration or server shutdown). */
  close: [RoomCloseReason];
  /** A participant joined (its signaling `join` succeeded). */
  peerjoined: [Peer];
  /** A participant left the room for good. */
  peerleft: [Peer, PeerLeftReason];
  trackpublished: [Peer, types.Producer<ProducerAppData>];
  trackunpublished: [Peer, types.Producer<ProducerAppData>];
};

export interface ConsumerAppData extends types.AppData {
  peerId: string;
  producerPeerId: string;
}

/** A room is one mediasoup router and the participants on it. */
export class Room extends EventEmitter<RoomEvents> {
  readonly id: string;
  readonly router: types.Router;
  readonly createdAt = Date.now();
  readonly #peers = new Map<string, Peer>();
  readonly #maxParticipants: number;
  readonly #logger: Logger;
  #speakers: SpeakerObservers | undefined;
  #closed = false;

  private constructor(options: RoomOptions) {
    super();
    this.id = options.id;
    this.router = options.router;
    this.#maxParticipants = options.maxParticipants;
    this.#logger = options.logger;
    this.router.on('workerclose', () => this.close('worker_died'));
  }

  /** Creates the room with its active-speaker and audio-level observers. */
  static async create(options: RoomOptions): Promise<Room> {
    const room = new Room(options);
    room.#speakers = await SpeakerObservers.create(options.router, {
      intervalMs: options.audioLevelIntervalMs ?? 800,
      onActiveSpeaker: (peerId) => room.#broadcast((p) => p.notify('activeSpeaker', { participantId: peerId })),
      onLevels: (levels) => room.#broadcast((p) => p.notify('audioLevels', { levels })),
    });
    return room;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get peers(): ReadonlyMap<string, Peer> {
    return this.#peers;
  }

  /** Consumers on this room's router: the load measure for pipe decisions and stats. */
  get consumerCount(): number {
    let count = 0;
    for (const peer of this.#peers.values()) count += peer.consumers.size;
    return count;
  }

  peerByIdentity(identity: string): Peer | undefined {
    for (const peer of this.#peers.values()) if (peer.identity === identity) return peer;
    return undefined;
  }

  peer(id: string): Peer {
    const peer = this.#peers.get(id);
    if (!peer) throw MediaServerError.notFound('participant', id);
    return peer;
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
    this.emit('peerjoined', peer);
    if (!peer.grants.canSubscribe) return;
    for (const other of this.joinedPeers(peer)) {
      for (const producer of other.producers.values()) await this.#consume(peer, other, producer);
      for (const dataProducer of other.dataProducers.values()) await this.#consumeData(peer, other, dataProducer);
    }
  }

  joinedPeers(except?: Peer): Peer[] {
    return [...this.#peers.values()].filter((p) => p.joined && p !== except);
  }

  #broadcast(send: (peer: Peer) => void): void {
    for (const peer of this.joinedPeers()) send(peer);
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
    producer.observer.on('close', () => {
      peer.producers.delete(producer.id);
      if (!this.#closed) this.emit('trackunpublished', peer, producer);
    });
    producer.on('score', (scores) => {
      const score = scores.reduce((best, s) => Math.max(best, s.score), 0);
      peer.notify('producerScore', { producerId: producer.id, score });
    });
    this.#logger.info({ peerId: peer.id, producerId: producer.id, kind: producer.kind, source: options.source }, 'producer created');
    if (producer.kind === 'audio' && options.source === 'microphone') await this.#speakers?.add(producer);
    this.emit('trackpublished', peer, producer);
    for (const other of this.joinedPeers(peer)) {
      if (other.grants.canSubscribe) await this.#consume(other, peer, producer);
    }
    return producer;
  }

  async produceData(peer: Peer, options: { transportId: string; sctpStreamParameters: types.SctpStreamParameters; label: string; protocol: string }): Promise<types.DataProducer> {
    const transport = peer.transport(options.transportId);
    if (transport.appData.direction !== 'send') throw MediaServerError.badRequest('produceData needs the send transport');
    const dataProducer = await transport.produceData({
      sctpStreamParameters: options.sctpStreamParameters,
      label: options.label,
      protocol: options.protocol,
      appData: { peerId: peer.id },
    });
    peer.dataProducers.set(dataProducer.id, dataProducer);
    dataProducer.observer.on('close', () => peer.dataProducers.delete(dataProducer.id));
    for (const other of this.joinedPeers(peer)) {
      if (other.grants.canSubscribe) await this.#consumeData(other, peer, dataProducer);
    }
    return dataProducer;
  }

  async setProducerPaused(peer: Peer, producerId: string, paused: boolean): Promise<void> {
    const producer = peer.producer(producerId);
    if (producer.paused === paused) return;
    if (paused) await producer.pause();
    else await producer.resume();
    const notification = paused ? 'trackMuted' : 'trackUnmuted';
    for (const other of this.joinedPeers(peer)) other.notify(notification, { participantId: peer.id, producerId });
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
    consumer.on('layerschange', (layers) => peer.notify('consumerLayersChanged', { consumerId: consumer.id, layers: layers ?? null }));
    consumer.on('score', ({ score, producerScore }) => peer.notify('consumerScore', { consumerId: consumer.id, score, producerScore }));
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

  async #consumeData(peer: Peer, producerPeer: Peer, dataProducer: types.DataProducer): Promise<void> {
    const transport = peer.recvTransport();
    if (!transport?.sctpParameters) return;
    let dataConsumer: types.DataConsumer;
    try {
      dataConsumer = await transport.consumeData({ dataProducerId: dataProducer.id, appData: { peerId: peer.id } });
    } catch (error) {
      this.#logger.warn({ err: error, peerId: peer.id, dataProducerId: dataProducer.id }, 'consumeData failed');
      return;
    }
    peer.dataConsumers.set(dataConsumer.id, dataConsumer);
    dataConsumer.observer.on('close', () => peer.dataConsumers.delete(dataConsumer.id));
    peer.notify('dataConsumerCreated', {
      dataConsumerId: dataConsumer.id,
      dataProducerId: dataProducer.id,
      participantId: producerPeer.id,
      sctpStreamParameters: dataConsumer.sctpStreamParameters as unknown as Record<string, never>,
      label: dataConsumer.label,
      protocol: dataConsumer.protocol,
    });
  }

  /** Removes a peer for good and tells the others why. */
  removePeer(peer: Peer, reason: PeerLeftReason): void {
    if (this.#peers.get(peer.id) !== peer) return;
    const wasJoined = peer.joined;
    this.#peers.delete(peer.id);
    peer.close();
    if (wasJoined) for (const other of this.joinedPeers()) other.notify('participantLeft', { participantId: peer.id, reason });
    this.#logger.info({ peerId: peer.id, reason, remaining: this.#peers.size }, 'participant left');
    this.emit('peerleft', peer, reason);
  }

  /** Samples every producer's and consumer's stats now. */
  async getStats(): Promise<RoomStatsInfo> {
    return (await sampleRoom(this)).info;
  }

  /** Closes the router (and so every transport). Idempotent. */
  close(reason: RoomCloseReason = 'shutdown'): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const peer of this.#peers.values()) peer.close();
    this.#peers.clear();
    this.router.close();
    this.emit('close', reason);
  }
}
