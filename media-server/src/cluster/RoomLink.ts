import type { types } from 'mediasoup';
import type { Logger } from '../logger.js';
import type { Peer, ProducerAppData } from '../Peer.js';
import type { Room } from '../Room.js';
import type { LinkMessage } from './link-messages.js';

export interface RoomLinkOptions {
  room: Room;
  remoteNodeId: string;
  /** Address the PipeTransport listens on (MEDIA_RTC_LISTEN_IP) and the one the other node reaches (ANNOUNCED_IP). */
  listenIp: string;
  announcedIp?: string | undefined;
  /** Sends a message to the other node about this room. */
  send: (message: LinkMessage) => void;
  logger: Logger;
}

/** What the pipe carries, for the service API and the benchmarks. */
export interface RoomLinkStats {
  node: string;
  state: RoomLink['state'];
  /** Tracks of this node's participants sent into the pipe, and of the other node's received from it. */
  exported: number;
  imported: number;
  /** Data producers (chat channels) likewise. */
  exportedData: number;
  importedData: number;
  bytesSent: number;
  bytesReceived: number;
}

/**
 * One room's link to its part on another media node: a PipeTransport on each side (SRTP and RTX
 * on: the pipe crosses a network, unlike `pipeToRouter` between workers of one host), connected by
 * the offer/answer the nodes exchange through Redis. Once linked, every local participant and
 * (data) producer is announced and piped to the other node, which produces it there with the same
 * id so its participants consume it like a local one; closes, pauses and leaves follow. Messages
 * are handled one at a time, in order.
 */
export class RoomLink {
  readonly #options: RoomLinkOptions;
  #transport: types.PipeTransport | undefined;
  #state: 'new' | 'offered' | 'linked' | 'closed' = 'new';
  #queue: Promise<void> = Promise.resolve();
  /** Local (data) producer id → its consumer on the pipe. */
  readonly #exported = new Map<string, types.Consumer | types.DataConsumer>();
  /** Participants of the other node this link brought into the room. */
  readonly #imported = new Set<string>();
  readonly #detach: (() => void)[] = [];

  constructor(options: RoomLinkOptions) {
    this.#options = options;
  }

  get state(): 'new' | 'offered' | 'linked' | 'closed' {
    return this.#state;
  }

  get remoteNodeId(): string {
    return this.#options.remoteNodeId;
  }

  /** Starts the link from this side: opens the PipeTransport and offers it. */
  offer(): void {
    this.#enqueue(async () => {
      const transport = await this.#open();
      this.#state = 'offered';
      this.#options.send({ type: 'offer', ...this.#local(transport) });
    });
  }

  /** A message of the other node about this room. */
  handle(message: LinkMessage): void {
    this.#enqueue(() => this.#handle(message));
  }

  async stats(): Promise<RoomLinkStats> {
    let bytesSent = 0;
    let bytesReceived = 0;
    if (this.#transport && !this.#transport.closed) {
      for (const s of await this.#transport.getStats()) {
        bytesSent += s.bytesSent;
        bytesReceived += s.bytesReceived;
      }
    }
    let imported = 0;
    let importedData = 0;
    for (const id of this.#imported) {
      const peer = this.#options.room.remotePeers.get(id);
      imported += peer?.producers.size ?? 0;
      importedData += peer?.dataProducers.size ?? 0;
    }
    const exportedData = [...this.#exported.values()].filter((c) => 'sctpStreamParameters' in c).length;
    return {
      node: this.#options.remoteNodeId,
      state: this.#state,
      exported: this.#exported.size - exportedData,
      imported,
      exportedData,
      importedData,
      bytesSent,
      bytesReceived,
    };
  }

  /** Tears the link down: the other node's participants leave this room; `notify` tells the other node. Idempotent. */
  close(reason: 'left' | 'disconnected', notify: boolean): void {
    if (this.#state === 'closed') return;
    const wasOpen = this.#state !== 'new';
    this.#state = 'closed';
    for (const detach of this.#detach.splice(0)) detach();
    for (const peerId of this.#imported) this.#options.room.removeRemotePeer(peerId, reason);
    this.#imported.clear();
    this.#exported.clear();
    this.#transport?.close();
    if (notify && wasOpen) this.#options.send({ type: 'unlink' });
    this.#options.logger.info({ node: this.#options.remoteNodeId, reason }, 'room link closed');
  }

  #enqueue(task: () => Promise<void>): void {
    this.#queue = this.#queue
      .then(async () => {
        if (this.#state !== 'closed') await task();
      })
      .catch((error: Error) => this.#options.logger.warn({ err: error.message, node: this.#options.remoteNodeId }, 'room link: a step failed'));
  }

  async #open(): Promise<types.PipeTransport> {
    if (this.#transport) return this.#transport;
    const { room, listenIp, announcedIp } = this.#options;
    this.#transport = await room.router.createPipeTransport({
      listenIp: announcedIp ? { ip: listenIp, announcedIp } : { ip: listenIp },
      enableSrtp: true,
      enableRtx: true,
      enableSctp: true,
      appData: { link: this.#options.remoteNodeId },
    });
    return this.#transport;
  }

  #local(transport: types.PipeTransport): { tuple: { ip: string; port: number }; srtpParameters: Record<string, unknown> } {
    return {
      tuple: { ip: this.#options.announcedIp ?? transport.tuple.localIp, port: transport.tuple.localPort },
      srtpParameters: transport.srtpParameters as unknown as Record<string, unknown>,
    };
  }

  async #handle(message: LinkMessage): Promise<void> {
    const { room } = this.#options;
    switch (message.type) {
      case 'offer': {
        const transport = await this.#open();
        await transport.connect({ ...message.tuple, srtpParameters: message.srtpParameters as unknown as types.SrtpParameters });
        this.#options.send({ type: 'answer', ...this.#local(transport) });
        await this.#linked(transport);
        return;
      }
      case 'answer': {
        if (this.#state !== 'offered' || !this.#transport) return;
        await this.#transport.connect({ ...message.tuple, srtpParameters: message.srtpParameters as unknown as types.SrtpParameters });
        await this.#linked(this.#transport);
        return;
      }
      case 'peer':
        this.#import(message.peer);
        return;
      case 'peerLeft':
        this.#imported.delete(message.peerId);
        room.removeRemotePeer(message.peerId, message.reason);
        return;
      case 'produce': {
        const transport = this.#linkedTransport();
        this.#import(message.peer);
        const producer = await transport.produce<ProducerAppData>({
          id: message.producerId,
          kind: message.kind,
          rtpParameters: message.rtpParameters as unknown as types.RtpParameters,
          paused: message.paused,
          appData: { peerId: message.peer.id, source: message.source, remote: true },
        });
        await room.addRemoteProducer(message.peer.id, producer);
        return;
      }
      case 'produceData': {
        const transport = this.#linkedTransport();
        this.#import(message.peer);
        const dataProducer = await transport.produceData({
          id: message.dataProducerId,
          sctpStreamParameters: message.sctpStreamParameters as unknown as types.SctpStreamParameters,
          label: message.label,
          protocol: message.protocol,
          appData: { peerId: message.peer.id, remote: true },
        });
        await room.addRemoteDataProducer(message.peer.id, dataProducer);
        return;
      }
      case 'closeProducer': {
        const peer = room.remotePeers.get(message.peerId);
        (peer?.producers.get(message.producerId) ?? peer?.dataProducers.get(message.producerId))?.close();
        return;
      }
      case 'pause':
        await room.setRemoteProducerPaused(message.peerId, message.producerId, message.paused);
        return;
      case 'unlink':
        this.close('disconnected', false);
        return;
    }
  }

  #linkedTransport(): types.PipeTransport {
    if (this.#state !== 'linked' || !this.#transport) throw new Error(`media for a link in state ${this.#state}`);
    return this.#transport;
  }

  #import(peer: { id: string; identity: string; name: string }): void {
    this.#imported.add(peer.id);
    this.#options.room.addRemotePeer(peer);
  }

  /** Both sides connected: announce and pipe everything local, now and as it comes. */
  async #linked(transport: types.PipeTransport): Promise<void> {
    if (this.#state === 'linked') return;
    this.#state = 'linked';
    const { room, logger } = this.#options;
    logger.info({ node: this.#options.remoteNodeId, tuple: transport.tuple }, 'room linked to its part on another node');
    const on = <E extends 'peerJoined' | 'peerLeft' | 'trackPublished' | 'dataPublished'>(event: E, listener: (...args: never[]) => void): void => {
      room.on(event, listener as never);
      this.#detach.push(() => room.off(event, listener as never));
    };
    on('peerJoined', (peer: Peer) => this.#options.send({ type: 'peer', peer: this.#peerInfo(peer) }));
    on('peerLeft', (peer: Peer, reason: 'left' | 'disconnected' | 'removed' | 'replaced') => this.#options.send({ type: 'peerLeft', peerId: peer.id, reason }));
    on('trackPublished', (peer: Peer, producer: types.Producer<ProducerAppData>) => this.#enqueue(() => this.#exportProducer(peer, producer)));
    on('dataPublished', (peer: Peer, dataProducer: types.DataProducer) => this.#enqueue(() => this.#exportData(peer, dataProducer)));
    for (const peer of room.joinedPeers()) {
      this.#options.send({ type: 'peer', peer: this.#peerInfo(peer) });
      for (const producer of peer.producers.values()) await this.#exportProducer(peer, producer);
      for (const dataProducer of peer.dataProducers.values()) await this.#exportData(peer, dataProducer);
    }
  }

  #peerInfo(peer: Peer): { id: string; identity: string; name: string } {
    return { id: peer.id, identity: peer.identity, name: peer.name };
  }

  async #exportProducer(peer: Peer, producer: types.Producer<ProducerAppData>): Promise<void> {
    if (producer.closed || this.#exported.has(producer.id) || this.#state !== 'linked') return;
    const { room, send } = this.#options;
    await room.pipeToPrimary('producer', producer.id, producer.appData.workerIndex);
    const consumer = await this.#linkedTransport().consume({ producerId: producer.id });
    this.#exported.set(producer.id, consumer);
    const closeProducer = (): void => {
      this.#exported.delete(producer.id);
      if (this.#state === 'linked') send({ type: 'closeProducer', peerId: peer.id, producerId: producer.id });
    };
    consumer.on('producerclose', closeProducer);
    consumer.on('producerpause', () => send({ type: 'pause', peerId: peer.id, producerId: producer.id, paused: true }));
    consumer.on('producerresume', () => send({ type: 'pause', peerId: peer.id, producerId: producer.id, paused: false }));
    send({
      type: 'produce',
      peer: this.#peerInfo(peer),
      producerId: producer.id,
      kind: consumer.kind,
      source: producer.appData.source,
      rtpParameters: consumer.rtpParameters as unknown as Record<string, unknown>,
      paused: consumer.producerPaused,
    });
  }

  async #exportData(peer: Peer, dataProducer: types.DataProducer): Promise<void> {
    if (dataProducer.closed || this.#exported.has(dataProducer.id) || this.#state !== 'linked') return;
    const { room, send } = this.#options;
    await room.pipeToPrimary('dataProducer', dataProducer.id, (dataProducer.appData as { workerIndex?: number }).workerIndex);
    const consumer = await this.#linkedTransport().consumeData({ dataProducerId: dataProducer.id });
    this.#exported.set(dataProducer.id, consumer);
    consumer.on('dataproducerclose', () => {
      this.#exported.delete(dataProducer.id);
      if (this.#state === 'linked') send({ type: 'closeProducer', peerId: peer.id, producerId: dataProducer.id });
    });
    send({
      type: 'produceData',
      peer: this.#peerInfo(peer),
      dataProducerId: dataProducer.id,
      sctpStreamParameters: (consumer.sctpStreamParameters ?? {}) as unknown as Record<string, unknown>,
      label: consumer.label,
      protocol: consumer.protocol,
    });
  }
}
