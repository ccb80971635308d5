import type { types as msTypes } from 'mediasoup-client';
import { Track } from './Track.js';

/** A track another participant publishes, received through the SFU. */
export class RemoteTrack extends Track {
  readonly #consumer: msTypes.Consumer;

  /** @internal */
  constructor(consumer: msTypes.Consumer, source: Track.Source, producerPaused: boolean) {
    super(consumer.track, source);
    this.#consumer = consumer;
    this.setMuted(producerPaused);
  }

  /** The publisher's producer id, stable for the track's life. */
  get sid(): string {
    return this.#consumer.producerId;
  }

  /** @internal */
  get consumerId(): string {
    return this.#consumer.id;
  }

  /** The browser's RTCStatsReport for this track's receiver. */
  getStats(): Promise<RTCStatsReport> {
    return this.#consumer.getStats();
  }

  /** @internal */
  handleMuted(muted: boolean): void {
    this.setMuted(muted);
  }

  /** @internal */
  close(): void {
    this.detach();
    this.#consumer.close();
  }
}
