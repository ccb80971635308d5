import type { types } from 'mediasoup';
import type { ConnectionQualityLevel, ParticipantReconnect, RoomStatsInfo } from '@telemed/sdk/protocol';
import type { Logger } from './logger.js';
import { Peer, trackInfo, type ProducerAppData } from './Peer.js';
import { MediaServerError } from './errors.js';
import { traceProducer, traceTransport } from './JoinTrace.js';
import { KeyFrameGate } from './KeyFrameGate.js';
import { RoomConsumers } from './RoomConsumers.js';
import { RoomRouters, type RoomRouter } from './RoomRouters.js';
import { sampleRoom } from './RoomStats.js';
import { SafeEmitter } from './SafeEmitter.js';
import { SpeakerObservers } from './SpeakerObservers.js';

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
  peerJoined: [Peer];
  /** A participant left the room for good. */
  peerLeft: [Peer, PeerLeftReason];
  /** A joined participant got back without leaving (socket resumed, or media path back after ICE restarts). */
  peerReconnected: [Peer, ParticipantReconnect];
  trackPublished: [Peer, types.Producer<ProducerAppData>];
  trackUnpublished: [Peer, types.Producer<ProducerAppData>];
  /** A local participant opened a data producer (its chat channel). */
  dataPublished: [Peer, types.DataProducer];
};

/** What a participant on another media node of the room is known by here. */
export interface RemotePeerInfo {
  id: string;
  identity: string;
  name: string;
}

/** Grants of a participant on another node as this node sees it: it only publishes (its node checked its token). */
const REMOTE_GRANTS = { canPublish: true, canSubscribe: false, canPublishData: true, roomAdmin: false } as const;

/** A room: its participants on this node (and on other nodes, as remote peers) and the routers they use. */
export class Room extends SafeEmitter<RoomEvents> {
  readonly id: string;
  /**
   * The same events for monitoring (media events for the API, recording), as mediasoup's `observer`:
   * the room's own listeners (its manager, signaling, links to other nodes) run first, and neither
   * side can remove the other's.
   */
  readonly observer: SafeEmitter<RoomEvents>;
  /** The first router (its RTP capabilities are announced to clients). */
  readonly router: types.Router;
  readonly #routers: RoomRouters;
  readonly #consumers: RoomConsumers;
  readonly createdAt = Date.now();
  #endsAt: number | undefined;
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
    super((event, error) => options.logger.error({ err: error, event }, 'a room listener threw'));
    this.observer = new SafeEmitter<RoomEvents>((event, error) => options.logger.error({ err: error, event }, 'a room observer threw'));
    this.id = options.id;
    this.router = options.router.router;
    this.#maxParticipants = options.maxParticipants;
    this.#logger = options.logger;
    this.#routers = new RoomRouters({
      primary: options.router,
      consumerBudget: options.consumerBudget ?? 500,
      ...(options.allocateRouter ? { allocateRouter: options.allocateRouter } : {}),
      isClosed: () => this.#closed,
      onWorkerClose: () => this.close('worker_died'),
      logger: options.logger,
    });
    this.#consumers = new RoomConsumers(this.#routers, options.logger);
  }

  #emit<E extends keyof RoomEvents & string>(event: E, ...args: RoomEvents[E]): void {
    this.safeEmit(event, ...args);
    this.observer.safeEmit(event, ...args);
  }

  /** When the room closes at its maximum duration (ms since 1970), once something enforces one. */
  get endsAt(): number | undefined {
    return this.#endsAt;
  }

  /** Said by whoever enforces the maximum duration (CallDurationLimit): welcomes carry it. */
  announceEnd(endsAt: number): void {
    this.#endsAt = endsAt;
  }

  /** Every router the room spans, by worker index. */
  get routers(): ReadonlyMap<number, RoomRouter> {
    return this.#routers.all;
  }

  /** Consumers per worker index (where each peer receives). */
  consumersPerWorker(): Map<number, number> {
    const counts = new Map<number, number>([...this.#routers.all.keys()].map((i) => [i, 0]));
    for (const peer of this.#peers.values()) counts.set(peer.workerIndex, (counts.get(peer.workerIndex) ?? 0) + peer.consumers.size);
    return counts;
  }

  /** Makes a (data) producer living on worker `from` available on the room's first router, where pipes to other nodes start. */
  pipeToPrimary(kind: 'producer' | 'dataProducer', id: string, from: number | undefined): Promise<void> {
    return this.#routers.pipe(kind, id, from, this.#routers.primary.workerIndex);
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
      const { workerIndex, webRtcServer } = await this.#routers.choose(this.consumersPerWorker());
      peer.assignWorker(workerIndex, webRtcServer);
    } catch (error) {
      this.#peers.delete(peer.id);
      throw error;
    }
  }

  /**
   * Marks the peer joined: tells the others, and subscribes it to everything already published
   * (with `autoSubscribe` false, to the data producers only: it subscribes to tracks itself).
   */
  async join(peer: Peer, rtpCapabilities: types.RtpCapabilities, { autoSubscribe = true }: { autoSubscribe?: boolean } = {}): Promise<void> {
    peer.markJoined(rtpCapabilities, autoSubscribe);
    for (const other of this.joinedPeers(peer)) other.notify('participantJoined', { participant: peer.info() });
    this.#emit('peerJoined', peer);
    if (this.#activeSpeaker && this.#peers.has(this.#activeSpeaker)) peer.notify('activeSpeaker', { participantId: this.#activeSpeaker });
    if (!peer.grants.canSubscribe) return;
    for (const other of this.visiblePeers(peer)) {
      if (peer.autoSubscribe) for (const producer of other.producers.values()) await this.#consumers.consume(peer, other, producer);
      for (const dataProducer of other.dataProducers.values()) await this.#consumers.consumeData(peer, other, dataProducer);
    }
  }

  /** A participant's own subscription to another's track (idempotent); NOT_FOUND for a track nobody it sees publishes. */
  async subscribe(peer: Peer, producerId: string): Promise<void> {
    const [owner, producer] = this.#visibleProducer(peer, producerId);
    await this.#consumers.subscribe(peer, owner, producer);
  }

  /** Stops a participant's consumer of another's track (`consumerClosed`); nothing when it does not receive it. */
  unsubscribe(peer: Peer, producerId: string): void {
    this.#visibleProducer(peer, producerId);
    this.#consumers.unsubscribe(peer, producerId);
  }

  #visibleProducer(peer: Peer, producerId: string): [Peer, types.Producer<ProducerAppData>] {
    for (const other of this.visiblePeers(peer)) {
      const producer = other.producers.get(producerId);
      if (producer) return [other, producer];
    }
    throw MediaServerError.notFound('producer', producerId);
  }

  /** Tells the others about a new track and, when it closes, that it is gone. */
  #announceTrack(peer: Peer, producer: types.Producer<ProducerAppData>): void {
    if (producer.closed) return;
    for (const other of this.joinedPeers(peer)) other.notify('trackPublished', { participantId: peer.id, track: trackInfo(producer) });
    // Closed with its transport (its participant left, its worker or node link died): participantLeft,
    // or the rejoin, says enough; an unpublish here would make a rejoining SDK forget its subscription.
    let withTransport = false;
    producer.once('transportclose', () => (withTransport = true));
    producer.observer.once('close', () => {
      if (this.#closed || withTransport) return;
      for (const other of this.joinedPeers(peer)) other.notify('trackUnpublished', { participantId: peer.id, producerId: producer.id });
    });
  }

  /** Joined participants on this node that receive every new track by themselves. */
  #autoSubscribers(except?: Peer): Peer[] {
    return this.joinedPeers(except).filter((p) => p.grants.canSubscribe && p.autoSubscribe);
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
    peer.addProducer(producer);
    this.#announceTrack(peer, producer);
    if (producer.kind === 'audio' && producer.appData.source === 'microphone') await this.#speakers?.add(producer);
    for (const other of this.#autoSubscribers()) await this.#consumers.consume(other, peer, producer);
  }

  /** A remote participant's data producer (chat), produced here on a pipe transport. */
  async addRemoteDataProducer(peerId: string, dataProducer: types.DataProducer): Promise<void> {
    const peer = this.#remotePeers.get(peerId);
    if (!peer || this.#closed) {
      dataProducer.close();
      return;
    }
    peer.addDataProducer(dataProducer);
    for (const other of this.joinedPeers()) {
      if (other.grants.canSubscribe) await this.#consumers.consumeData(other, peer, dataProducer);
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
    const entry = this.#routers.on(peer.workerIndex);
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
    peer.addTransport(transport);
    transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') {
        this.#logger.warn({ peerId: peer.id, transportId: transport.id, state }, 'transport DTLS state');
      }
    });
    traceTransport(this.#logger, transport, peer.id, direction);
    return transport;
  }

  async produce(
    peer: Peer,
    options: { transportId: string; kind: types.MediaKind; rtpParameters: types.RtpParameters; source: ProducerAppData['source']; paused: boolean },
  ): Promise<types.Producer<ProducerAppData>> {
    const transport = peer.transport(options.transportId);
    if (transport.appData.direction !== 'send') throw MediaServerError.badRequest('produce needs the send transport');
    const workerIndex = this.#routers.workerOf(transport);
    const producer = await transport.produce<ProducerAppData>({
      kind: options.kind,
      rtpParameters: options.rtpParameters,
      paused: options.paused,
      appData: { peerId: peer.id, source: options.source, workerIndex },
    });
    peer.addProducer(producer);
    if (producer.kind === 'video') this.#keyFrameGates.set(producer.id, KeyFrameGate.forProducer(producer));
    traceProducer(this.#logger, producer, peer.id);
    producer.observer.on('close', () => {
      this.#keyFrameGates.delete(producer.id);
      if (!this.#closed) this.#emit('trackUnpublished', peer, producer);
    });
    producer.on('score', (scores) => {
      const score = scores.reduce((best, s) => Math.max(best, s.score), 0);
      peer.notify('producerScore', { producerId: producer.id, score });
    });
    this.#logger.info({ peerId: peer.id, producerId: producer.id, kind: producer.kind, source: options.source }, 'producer created');
    if (producer.kind === 'audio' && options.source === 'microphone') {
      // The observers live on the first router; a producer elsewhere is piped there first.
      await this.#routers.pipe('producer', producer.id, workerIndex, this.#routers.primary.workerIndex);
      await this.#speakers?.add(producer);
    }
    this.#emit('trackPublished', peer, producer);
    this.#announceTrack(peer, producer);
    for (const other of this.#autoSubscribers(peer)) await this.#consumers.consume(other, peer, producer);
    return producer;
  }

  async produceData(
    peer: Peer,
    options: { transportId: string; sctpStreamParameters: types.SctpStreamParameters; label: string; protocol: string },
  ): Promise<types.DataProducer> {
    const transport = peer.transport(options.transportId);
    if (transport.appData.direction !== 'send') throw MediaServerError.badRequest('produceData needs the send transport');
    const dataProducer = await transport.produceData({
      sctpStreamParameters: options.sctpStreamParameters,
      label: options.label,
      protocol: options.protocol,
      appData: { peerId: peer.id, workerIndex: this.#routers.workerOf(transport) },
    });
    peer.addDataProducer(dataProducer);
    this.#emit('dataPublished', peer, dataProducer);
    for (const other of this.joinedPeers(peer)) {
      if (other.grants.canSubscribe) await this.#consumers.consumeData(other, peer, dataProducer);
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

  /** Removes a peer for good and tells the others why. */
  removePeer(peer: Peer, reason: PeerLeftReason): void {
    if (this.#peers.get(peer.id) !== peer) return;
    const wasJoined = peer.joined;
    this.#peers.delete(peer.id);
    peer.close();
    if (wasJoined) for (const other of this.joinedPeers()) other.notify('participantLeft', { participantId: peer.id, reason });
    this.#logger.info({ peerId: peer.id, reason, remaining: this.#peers.size }, 'participant left');
    this.#emit('peerLeft', peer, reason);
  }

  /** Tells the room's listeners that a joined participant got back without leaving. */
  peerReconnected(peer: Peer, reconnect: ParticipantReconnect): void {
    if (this.#peers.get(peer.id) !== peer || !peer.joined) return;
    this.#logger.info({ peerId: peer.id, ...reconnect }, 'participant reconnected');
    this.#emit('peerReconnected', peer, reconnect);
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
    this.#routers.close();
    this.#emit('close', reason);
  }
}
