import type { types as msTypes } from 'mediasoup-client';
import type { SignalClient } from './SignalClient.js';
import { Track } from './Track.js';

/** A track captured on this device and published to the room. */
export class LocalTrack extends Track {
  #producer: msTypes.Producer | undefined;
  #signal: SignalClient | undefined;

  /** @internal */
  constructor(mediaStreamTrack: MediaStreamTrack, source: Track.Source) {
    super(mediaStreamTrack, source);
    mediaStreamTrack.addEventListener('ended', () => this.emit('ended'));
  }

  /** The server's producer id once published. */
  get sid(): string | undefined {
    return this.#producer?.id;
  }

  /** @internal */
  setPublished(producer: msTypes.Producer, signal: SignalClient): void {
    this.#producer = producer;
    this.#signal = signal;
  }

  /** Stops sending media (others see the track muted); the device stays open. */
  async mute(): Promise<void> {
    if (this.isMuted) return;
    this.#producer?.pause();
    if (this.#producer && this.#signal) await this.#signal.request('pauseProducer', { producerId: this.#producer.id });
    this.setMuted(true);
  }

  async unmute(): Promise<void> {
    if (!this.isMuted) return;
    this.#producer?.resume();
    if (this.#producer && this.#signal) await this.#signal.request('resumeProducer', { producerId: this.#producer.id });
    this.setMuted(false);
  }

  /** Stops the capture and unpublishes. */
  stop(): void {
    this.mediaStreamTrack.stop();
    this.#producer?.close();
    this.#producer = undefined;
  }
}
