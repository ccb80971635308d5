import type { types } from 'mediasoup';
import type { Logger } from './logger.js';
import type { Peer, ProducerAppData } from './Peer.js';
import { MediaServerError } from './errors.js';
import { traceConsumer } from './JoinTrace.js';
import type { RoomRouters } from './RoomRouters.js';

export interface ConsumerAppData extends types.AppData {
  peerId: string;
  producerPeerId: string;
}

/**
 * Makes a room's consumers: one code path for auto-subscribe and for a participant's own
 * `subscribe`, piping the producer to the subscriber's router first when it lives on another one.
 */
export class RoomConsumers {
  readonly #routers: RoomRouters;
  readonly #logger: Logger;
  /** Subscriptions unsubscribed while their consumer was being made: it closes once made. */
  readonly #cancelled = new WeakMap<Peer, Set<string>>();

  constructor(routers: RoomRouters, logger: Logger) {
    this.#routers = routers;
    this.#logger = logger;
  }

  /**
   * Creates a paused consumer of `producer` for `peer`; the client resumes it once it is ready.
   * False when it could not (logged); a consumer that exists or is being made counts as made.
   */
  async consume(peer: Peer, producerPeer: Peer, producer: types.Producer<ProducerAppData>): Promise<boolean> {
    if (!peer.reserveSubscription(producer.id)) return true;
    const consumer = await this.#createConsumer(peer, producerPeer, producer);
    if (consumer) consumer.observer.once('close', () => peer.releaseSubscription(producer.id));
    else peer.releaseSubscription(producer.id);
    const cancelled = this.#cancelled.get(peer)?.delete(producer.id) ?? false;
    if (consumer && cancelled) this.unsubscribe(peer, producer.id);
    return consumer !== undefined;
  }

  /** A participant's own subscription: as auto-subscribe, but failures are the request's typed errors. */
  async subscribe(peer: Peer, producerPeer: Peer, producer: types.Producer<ProducerAppData>): Promise<void> {
    if (!peer.recvTransport() || !peer.rtpCapabilities) throw MediaServerError.invalidState('subscribing needs a receive transport');
    this.#cancelled.get(peer)?.delete(producer.id);
    if (!(await this.consume(peer, producerPeer, producer))) {
      throw MediaServerError.invalidState(`could not consume producer ${producer.id} (codecs, or its router could not be reached)`);
    }
  }

  /** Closes `peer`'s consumer of a producer and tells it (`consumerClosed`); nothing when there is none. */
  unsubscribe(peer: Peer, producerId: string): void {
    const consumer = peer.consumerOf(producerId);
    if (!consumer) {
      if (peer.hasSubscription(producerId)) this.#cancelled.set(peer, (this.#cancelled.get(peer) ?? new Set()).add(producerId));
      return;
    }
    consumer.close();
    peer.notify('consumerClosed', { consumerId: consumer.id });
  }

  async #createConsumer(peer: Peer, producerPeer: Peer, producer: types.Producer<ProducerAppData>): Promise<types.Consumer | undefined> {
    const transport = peer.recvTransport();
    const rtpCapabilities = peer.rtpCapabilities;
    if (!transport || !rtpCapabilities) return;
    const target = this.#routers.workerOf(transport);
    try {
      await this.#routers.pipe('producer', producer.id, producer.appData.workerIndex, target);
    } catch (error) {
      this.#logger.warn({ err: error, peerId: peer.id, producerId: producer.id }, "could not pipe a producer to the subscriber's router");
      return;
    }
    if (!this.#routers.all.get(target)?.router.canConsume({ producerId: producer.id, rtpCapabilities })) {
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
    peer.addConsumer(consumer);
    traceConsumer(this.#logger, consumer, peer.id);
    consumer.on('producerclose', () => peer.notify('consumerClosed', { consumerId: consumer.id }));
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

  async consumeData(peer: Peer, producerPeer: Peer, dataProducer: types.DataProducer): Promise<void> {
    const transport = peer.recvTransport();
    if (!transport?.sctpParameters) return;
    if (!peer.reserveSubscription(dataProducer.id)) return;
    let dataConsumer: types.DataConsumer;
    try {
      await this.#routers.pipe(
        'dataProducer',
        dataProducer.id,
        (dataProducer.appData as { workerIndex?: number }).workerIndex,
        this.#routers.workerOf(transport),
      );
      dataConsumer = await transport.consumeData({ dataProducerId: dataProducer.id, appData: { peerId: peer.id } });
    } catch (error) {
      this.#logger.warn({ err: error, peerId: peer.id, dataProducerId: dataProducer.id }, 'consumeData failed');
      peer.releaseSubscription(dataProducer.id);
      return;
    }
    peer.addDataConsumer(dataConsumer);
    dataConsumer.observer.on('close', () => peer.releaseSubscription(dataProducer.id));
    peer.notify('dataConsumerCreated', {
      dataConsumerId: dataConsumer.id,
      dataProducerId: dataProducer.id,
      participantId: producerPeer.id,
      sctpStreamParameters: dataConsumer.sctpStreamParameters as unknown as Record<string, never>,
      label: dataConsumer.label,
      protocol: dataConsumer.protocol,
    });
  }
}
