import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { ConnectionQualityLevel, ParticipantReconnect, RoomStatsInfo } from '@telemed/sdk/protocol';
import type { Logger } from './logger.js';
import { Peer, type ProducerAppData } from './Peer.js';
import { MediaServerError } from './errors.js';
import { traceConsumer, traceProducer, traceTransport } from './JoinTrace.js';
import { KeyFrameGate } from './KeyFrameGate.js';
import { sampleRoom } from './RoomStats.js';
import { SpeakerObservers } from './SpeakerObservers.js';

/** A router of the room and the worker (index, WebRtcServer) it lives on. */
export interface RoomRouter {
  workerIndex: number;
  router: types.Router;
  webRtcServer: types.WebRtcServer;
}

export interface RoomOptions {
  id: string;
  /** The room's first router; its capabilities are the room's. */
  router: RoomRouter;
  maxParticipants: number;
  logger: Logger;
  /** Consumers one router (worker) serves before new participants go to another router. */
  consumerBudget?: number;
  /** A new router for this room on a worker it does not use yet; undefined when there is none. */
  allocateRouter?: (usedWorkers: ReadonlySet<number>) => Promise<RoomRouter | undefined>;
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
  /** A joined participant got back without leaving (socket resumed, or media path back after ICE restarts). */
  peerreconnected: [Peer, ParticipantReconnect];
  trackpublished: [Peer, types.Producer<ProducerAppData>];
  trackunpublished: [Peer, types.Producer<ProducerAppData>];
  /** A local participant opened a data producer (its chat channel). */
  datapublished: [Peer, types.DataProducer];
};

/** What a participant on another media node of the room is known by here. */
export interface RemotePeerInfo {
  id: string;
  identity: string;
  name: string;
}

/** Grants of a participant on another node as this node sees it: it only publishes (its node checked its token). */
const REMOTE_GRANTS = { canPublish: true, canSubscribe: false, canPublishData: true, roomAdmin: false } as const;

export interface ConsumerAppData extends types.AppData {
  peerId: string;
  producerPeerId: string;
}

/** A room is one mediasoup router and the participants on it. */
export class Room extends EventEmitter<RoomEvents> {
  readonly id: string;
  /** The first router (its RTP capabilities are announced to clients). */
  readonly router: types.Router;
  readonly #primary: RoomRouter;
  readonly #routers = new Map<number, RoomRouter>();
  /** `${id}>${workerIndex}` → the pipe of a (data) producer into another router of the room. */
  readonly #pipes = new Map<string, Promise<void>>();
  readonly #consumerBudget: number;
  readonly #allocateRouter: RoomOptions['allocateRouter'];
  #allocating: Promise<RoomRouter | undefined> | undefined;
  readonly createdAt = Date.now();
  readonly #peers = new Map<string, Peer>();
  /** Participants of this room on other media nodes: their tracks arrive over pipe transports (see cluster/RoomLink). */
  readonly #remotePeers = new Map<string, Peer>();
  readonly #maxParticipants: number;
  readonly #logger: Logger;
  #speakers: SpeakerObservers | undefined;
  /** The dominant speaker's peer id, told to participants who join later. */
  #activeSpeaker: string | undefined;
  /** Per video producer id: when its publisher will honour a keyframe request again. */
  readonly #keyFrameGates = new Map<string, KeyFrameGate>();
  /** A consumer's resume waiting for its producer's gate; a later pause or resume replaces it. */
  readonly #pendingResumes = new WeakMap<types.Consumer, symbol>();
  #closed = false;

  private constructor(options: RoomOptions) {
    super();
    this.id = options.id;
    this.#primary = options.router;
    this.router = options.router.router;
    this.#routers.set(options.router.workerIndex, options.router);
    this.#consumerBudget = options.consumerBudget ?? 500;
    this.#allocateRouter = options.allocateRouter;
    this.#maxParticipants = options.maxParticipants;
    this.#logger = options.logger;
    this.router.on('workerclose', () => this.close('worker_died'));
  }

  /** Every router the room spans, by worker index. */
  get routers(): ReadonlyMap<number, RoomRouter> {
    return this.#routers;
  }

  /** Consumers per worker index (where each peer receives). */
  consumersPerWorker(): Map<number, number> {
    const counts = new Map<number, number>([...this.#routers.keys()].map((i) => [i, 0]));
    for (const peer of this.#peers.values()) counts.set(peer.workerIndex, (counts.get(peer.workerIndex) ?? 0) + peer.consumers.size);
    return counts;
  }

  /**
   * The router a new participant uses: the least-loaded one of the room while under the consumer
   * budget, else a new router on another worker, joined to the others with pipeToRouter.
   */
  async #chooseRouter(): Promise<RoomRouter> {
    const counts = this.consumersPerWorker();
    let best = this.#primary;
    for (const entry of this.#routers.values()) if ((counts.get(entry.workerIndex) ?? 0) < (counts.get(best.workerIndex) ?? 0)) best = entry;
    if ((counts.get(best.workerIndex) ?? 0) < this.#consumerBudget || !this.#allocateRouter) return best;
    this.#allocating ??= this.#allocateRouter(new Set(this.#routers.keys())).finally(() => (this.#allocating = undefined));
    const added = await this.#allocating;
    if (!added || this.#closed) {
      if (added && this.#closed) added.router.close();
      return best;
    }
    if (!this.#routers.has(added.workerIndex)) {
      this.#routers.set(added.workerIndex, added);
      added.router.on('workerclose', () => this.close('worker_died'));
      this.#logger.info({ workerIndex: added.workerIndex, routers: this.#routers.size }, 'room outgrew its consumer budget: added a router on another worker');
    }
    return this.#routers.get(added.workerIndex) ?? best;
  }

  /** Makes producer (or data producer) `id`, living on worker `from`, available on worker `to`. */
  #pipe(kind: 'producer' | 'dataProducer', id: string, from: number, to: number): Promise<void> {
    if (from === to) return Promise.resolve();
    const key = `${id}>${to}`;
    let pending = this.#pipes.get(key);
    if (!pending) {
      const source = this.#routers.get(from)?.router;
      const target = this.#routers.get(to)?.router;
      if (!source || !target) return Promise.reject(new MediaServerError('INTERNAL', 'router of the room is gone'));
      pending = source.pipeToRouter(kind === 'producer' ? { producerId: id, router: target } : { dataProducerId: id, router: target }).then(() => undefined);
      this.#pipes.set(key, pending);
      pending.catch(() => this.#pipes.delete(key));
    }
    return pending;
  }

  /** Makes a (data) producer living on worker `from` available on the room's first router, where pipes to other nodes start. */
  pipeToPrimary(kind: 'producer' | 'dataProducer', id: string, from: number | undefined): Promise<void> {
    return this.#pipe(kind, id, from ?? this.#primary.workerIndex, this.#primary.workerIndex);
  }

  /** Creates the room with its active-speaker and audio-level observers. */
  static async create(options: RoomOptions): Promise<Room> {
    const room = new Room(options);
    room.#speakers = await SpeakerObservers.create(options.router.router, {
      intervalMs: options.audioLevelIntervalMs ?? 800,
      onActiveSpeaker: (peerId) => {
        room.#activeSpeaker = peerId;
        room.#broadcast((p) => p.notify('activeSpeaker', { participantId: peerId }));
      },
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

  /** Registers a connected (not yet joined) peer and picks the router it will use. */
  async addPeer(peer: Peer): Promise<void> {
    if (this.#closed) throw new MediaServerError('INVALID_STATE', 'room is closed');
    if (this.#peers.size >= this.#maxParticipants) {
      throw new MediaServerError('ROOM_FULL', `room is full (${this.#maxParticipants} participants)`);
    }
    this.#peers.set(peer.id, peer);
    try {
      const { workerIndex, webRtcServer } = await this.#chooseRouter();
      peer.assignWorker(workerIndex, webRtcServer);
    } catch (error) {
      this.#peers.delete(peer.id);
      throw error;
    }
  }

  /** Marks the peer joined: tells the others, and subscribes it to everything already published. */
  async join(peer: Peer, rtpCapabilities: types.RtpCapabilities): Promise<void> {
    peer.markJoined(rtpCapabilities);
    for (const other of this.joinedPeers(peer)) other.notify('participantJoined', { participant: peer.info() });
    this.emit('peerjoined', peer);
    if (this.#activeSpeaker && this.#peers.has(this.#activeSpeaker)) peer.notify('activeSpeaker', { participantId: this.#activeSpeaker });
    if (!peer.grants.canSubscribe) return;
    for (const other of this.visiblePeers(peer)) {
      for (const producer of other.producers.values()) await this.#consume(peer, other, producer);
      for (const dataProducer of other.dataProducers.values()) await this.#consumeData(peer, other, dataProducer);
    }
  }

  /** A participant's own grade of its link: kept for later joiners, relayed to the others when it changes. */
  reportConnectionQuality(peer: Peer, quality: ConnectionQualityLevel): void {
    if (peer.connectionQuality === quality) return;
    peer.connectionQuality = quality;
    for (const other of this.joinedPeers(peer)) other.notify('participantQuality', { participantId: peer.id, quality });
  }

  joinedPeers(except?: Peer): Peer[] {
    return [...this.#peers.values()].filter((p) => p.joined && p !== except);
  }

  /** Participants a peer sees: the joined ones on this node and those on the room's other nodes. */
  visiblePeers(except?: Peer): Peer[] {
    return [...this.joinedPeers(except), ...this.#remotePeers.values()];
  }

  get remotePeers(): ReadonlyMap<string, Peer> {
    return this.#remotePeers;
  }

  /** A participant on another node of the room: the local ones are told it joined. Idempotent. */
  addRemotePeer(info: RemotePeerInfo): Peer {
    const known = this.#remotePeers.get(info.id);
    if (known) return known;
    const peer = new Peer({ ...info, grants: { ...REMOTE_GRANTS }, notify: () => undefined });
    peer.markJoined(this.router.rtpCapabilities);
    this.#remotePeers.set(peer.id, peer);
    for (const other of this.joinedPeers()) other.notify('participantJoined', { participant: peer.info() });
    this.#logger.info({ peerId: peer.id, remotePeers: this.#remotePeers.size }, 'participant on another node joined');
    return peer;
  }

  /** A participant on another node left (or its node did): its piped tracks close, the local ones are told. */
  removeRemotePeer(peerId: string, reason: PeerLeftReason): void {
    const peer = this.#remotePeers.get(peerId);
    if (!peer) return;
    this.#remotePeers.delete(peerId);
    for (const producer of [...peer.producers.values()]) producer.close();
    for (const dataProducer of [...peer.dataProducers.values()]) dataProducer.close();
    peer.close();
    for (const other of this.joinedPeers()) other.notify('participantLeft', { participantId: peer.id, reason });
    this.#logger.info({ peerId, reason }, 'participant on another node left');
  }

  /** A remote participant's track, produced here on a pipe transport: every local subscriber consumes it. */
  async addRemoteProducer(peerId: string, producer: types.Producer<ProducerAppData>): Promise<void> {
    const peer = this.#remotePeers.get(peerId);
    if (!peer || this.#closed) {
      producer.close();
      return;
    }
    peer.producers.set(producer.id, producer);
    producer.observer.on('close', () => peer.producers.delete(producer.id));
    if (producer.kind === 'audio' && producer.appData.source === 'microphone') await this.#speakers?.add(producer);
    for (const other of this.joinedPeers()) {
      if (other.grants.canSubscribe) await this.#consume(other, peer, producer);
    }
  }

  /** A remote participant's data producer (chat), produced here on a pipe transport. */
  async addRemoteDataProducer(peerId: string, dataProducer: types.DataProducer): Promise<void> {
    const peer = this.#remotePeers.get(peerId);
    if (!peer || this.#closed) {
      dataProducer.close();
      return;
    }
    peer.dataProducers.set(dataProducer.id, dataProducer);
    dataProducer.observer.on('close', () => peer.dataProducers.delete(dataProducer.id));
    for (const other of this.joinedPeers()) {
      if (other.grants.canSubscribe) await this.#consumeData(other, peer, dataProducer);
    }
  }

  /** A remote participant paused or resumed a track: its piped producer follows, the local ones are told. */
  async setRemoteProducerPaused(peerId: string, producerId: string, paused: boolean): Promise<void> {
    const producer = this.#remotePeers.get(peerId)?.producers.get(producerId);
    if (!producer || producer.paused === paused) return;
    if (paused) await producer.pause();
    else await producer.resume();
    for (const other of this.joinedPeers()) other.notify(paused ? 'trackMuted' : 'trackUnmuted', { participantId: peerId, producerId });
  }

  #broadcast(send: (peer: Peer) => void): void {
    for (const peer of this.joinedPeers()) send(peer);
  }

  async createTransport(peer: Peer, direction: 'send' | 'recv', enableSctp: boolean): Promise<types.WebRtcTransport> {
    const entry = this.#routers.get(peer.workerIndex) ?? this.#primary;
    const transport = await entry.router.createWebRtcTransport({
      webRtcServer: peer.webRtcServer ?? entry.webRtcServer,
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      enableSctp,
      numSctpStreams: { OS: 1024, MIS: 1024 },
      initialAvailableOutgoingBitrate: 1_000_000,
      appData: { peerId: peer.id, direction, workerIndex: entry.workerIndex },
    });
    peer.transports.set(transport.id, transport);
    transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') {
        this.#logger.warn({ peerId: peer.id, transportId: transport.id, state }, 'transport DTLS state');
      }
    });
    transport.observer.on('close', () => peer.transports.delete(transport.id));
    traceTransport(this.#logger, transport, peer.id, direction);
    return transport;
  }

  async produce(peer: Peer, options: { transportId: string; kind: types.MediaKind; rtpParameters: types.RtpParameters; source: ProducerAppData['source']; paused: boolean }): Promise<types.Producer<ProducerAppData>> {
    const transport = peer.transport(options.transportId);
    if (transport.appData.direction !== 'send') throw MediaServerError.badRequest('produce needs the send transport');
    const workerIndex = this.#workerOf(transport);
    const producer = await transport.produce<ProducerAppData>({
      kind: options.kind,
      rtpParameters: options.rtpParameters,
      paused: options.paused,
      appData: { peerId: peer.id, source: options.source, workerIndex },
    });
    peer.producers.set(producer.id, producer);
    if (producer.kind === 'video') this.#keyFrameGates.set(producer.id, KeyFrameGate.forProducer(producer));
    traceProducer(this.#logger, producer, peer.id);
    producer.observer.on('close', () => {
      this.#keyFrameGates.delete(producer.id);
      peer.producers.delete(producer.id);
      if (!this.#closed) this.emit('trackunpublished', peer, producer);
    });
    producer.on('score', (scores) => {
      const score = scores.reduce((best, s) => Math.max(best, s.score), 0);
      peer.notify('producerScore', { producerId: producer.id, score });
    });
    this.#logger.info({ peerId: peer.id, producerId: producer.id, kind: producer.kind, source: options.source }, 'producer created');
    if (producer.kind === 'audio' && options.source === 'microphone') {
      // The observers live on the first router; a producer elsewhere is piped there first.
      await this.#pipe('producer', producer.id, workerIndex, this.#primary.workerIndex);
      await this.#speakers?.add(producer);
    }
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
      appData: { peerId: peer.id, workerIndex: this.#workerOf(transport) },
    });
    peer.dataProducers.set(dataProducer.id, dataProducer);
    dataProducer.observer.on('close', () => peer.dataProducers.delete(dataProducer.id));
    this.emit('datapublished', peer, dataProducer);
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

  /**
   * Resumes a consumer. A video consumer's start asks the publisher for a keyframe: when the
   * publisher would drop that request (see KeyFrameGate), it starts once the request will be honoured.
   */
  async resumeConsumer(peer: Peer, consumerId: string): Promise<void> {
    const consumer = peer.consumer(consumerId);
    const wait = consumer.kind === 'video' && consumer.paused ? (this.#keyFrameGates.get(consumer.producerId)?.delayMs() ?? 0) : 0;
    if (wait > 0) {
      const ticket = Symbol('resume');
      this.#pendingResumes.set(consumer, ticket);
      await new Promise((resolve) => setTimeout(resolve, wait));
      if (this.#pendingResumes.get(consumer) !== ticket) return;
      this.#pendingResumes.delete(consumer);
    }
    if (!consumer.closed) await consumer.resume();
  }

  async pauseConsumer(peer: Peer, consumerId: string): Promise<void> {
    const consumer = peer.consumer(consumerId);
    this.#pendingResumes.delete(consumer);
    await consumer.pause();
  }

  /** Creates a paused consumer of `producer` for `peer`; the client resumes it once it is ready. */
  async #consume(peer: Peer, producerPeer: Peer, producer: types.Producer<ProducerAppData>): Promise<void> {
    if (!peer.reserveSubscription(producer.id)) return;
    const consumer = await this.#createConsumer(peer, producerPeer, producer);
    if (consumer) consumer.observer.once('close', () => peer.releaseSubscription(producer.id));
    else peer.releaseSubscription(producer.id);
  }

  async #createConsumer(peer: Peer, producerPeer: Peer, producer: types.Producer<ProducerAppData>): Promise<types.Consumer | undefined> {
    const transport = peer.recvTransport();
    const rtpCapabilities = peer.rtpCapabilities;
    if (!transport || !rtpCapabilities) return;
    const target = this.#workerOf(transport);
    try {
      await this.#pipe('producer', producer.id, producer.appData.workerIndex ?? this.#primary.workerIndex, target);
    } catch (error) {
      this.#logger.warn({ err: error, peerId: peer.id, producerId: producer.id }, 'could not pipe a producer to the subscriber\'s router');
      return;
    }
    if (!this.#routers.get(target)?.router.canConsume({ producerId: producer.id, rtpCapabilities })) {
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
    traceConsumer(this.#logger, consumer, peer.id);
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
    return consumer;
  }

  async #consumeData(peer: Peer, producerPeer: Peer, dataProducer: types.DataProducer): Promise<void> {
    const transport = peer.recvTransport();
    if (!transport?.sctpParameters) return;
    if (!peer.reserveSubscription(dataProducer.id)) return;
    let dataConsumer: types.DataConsumer;
    try {
      const from = (dataProducer.appData as { workerIndex?: number }).workerIndex ?? this.#primary.workerIndex;
      await this.#pipe('dataProducer', dataProducer.id, from, this.#workerOf(transport));
      dataConsumer = await transport.consumeData({ dataProducerId: dataProducer.id, appData: { peerId: peer.id } });
    } catch (error) {
      this.#logger.warn({ err: error, peerId: peer.id, dataProducerId: dataProducer.id }, 'consumeData failed');
      peer.releaseSubscription(dataProducer.id);
      return;
    }
    peer.dataConsumers.set(dataConsumer.id, dataConsumer);
    dataConsumer.observer.on('close', () => {
      peer.dataConsumers.delete(dataConsumer.id);
      peer.releaseSubscription(dataProducer.id);
    });
    peer.notify('dataConsumerCreated', {
      dataConsumerId: dataConsumer.id,
      dataProducerId: dataProducer.id,
      participantId: producerPeer.id,
      sctpStreamParameters: dataConsumer.sctpStreamParameters as unknown as Record<string, never>,
      label: dataConsumer.label,
      protocol: dataConsumer.protocol,
    });
  }

  /** The worker index of a transport's router (transports made elsewhere, e.g. load-test ones, are on the first). */
  #workerOf(transport: types.Transport): number {
    const index = (transport.appData as { workerIndex?: unknown }).workerIndex;
    return typeof index === 'number' ? index : this.#primary.workerIndex;
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

  /** Tells the room's listeners that a joined participant got back without leaving. */
  peerReconnected(peer: Peer, reconnect: ParticipantReconnect): void {
    if (this.#peers.get(peer.id) !== peer || !peer.joined) return;
    this.#logger.info({ peerId: peer.id, ...reconnect }, 'participant reconnected');
    this.emit('peerreconnected', peer, reconnect);
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
    for (const peer of this.#remotePeers.values()) peer.close();
    this.#remotePeers.clear();
    for (const { router } of this.#routers.values()) router.close();
    this.emit('close', reason);
  }
}
