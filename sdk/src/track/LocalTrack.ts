import type { types as msTypes } from 'mediasoup-client';
import type { LocalTrackMutedBy } from '../protocol/messages.js';
import type { SignalClient } from '../signaling/SignalClient.js';
import { Track } from './Track.js';
import { TelemedError } from '../errors.js';

/** A track captured on this device and published to the room. */
export class LocalTrack extends Track {
  #producer: msTypes.Producer | undefined;
  #signal: SignalClient | undefined;
  #ended = false;
  #mutedBy: LocalTrack.MutedBy | null = null;
  readonly #onEnded = (): void => {
    if (this.#ended) return;
    this.#ended = true;
    this.emit('ended');
  };

  /** @internal */
  constructor(mediaStreamTrack: MediaStreamTrack, source: Track.Source) {
    super(mediaStreamTrack, source);
    mediaStreamTrack.addEventListener('ended', this.#onEnded);
  }

  /** The server's producer id once published (it changes when a lost session is rejoined). */
  get sid(): string | undefined {
    return this.#producer?.id;
  }

  /**
   * @internal Browsers do not fire 'ended' when a capture is stopped by script, and not every
   * browser fires it reliably for the "Stop sharing" button: the participant polls this.
   */
  checkEnded(): void {
    if (this.mediaStreamTrack.readyState === 'ended') this.#onEnded();
  }

  /** @internal */
  get producer(): msTypes.Producer | undefined {
    return this.#producer;
  }

  /** @internal */
  setPublished(producer: msTypes.Producer, signal: SignalClient): void {
    this.#producer = producer;
    this.#signal = signal;
  }

  /** @internal The session that carried the producer is gone; the capture stays open for a republish. */
  clearPublished(): void {
    this.#producer = undefined;
  }

  /**
   * Who muted this track while it is muted: `self` (mute()), `roomAdmin` (another participant
   * with the roomAdmin grant) or `server` (the platform's server API); null while unmuted.
   */
  get mutedBy(): LocalTrack.MutedBy | null {
    return this.#mutedBy;
  }

  /** Stops sending media (others see the track muted); the device stays open. */
  async mute(): Promise<void> {
    if (this.isMuted) return;
    this.#mutedBy = 'self';
    this.setMuted(true);
    this.#producer?.pause();
    if (this.#producer && this.#signal) await this.#signal.request('pauseProducer', { producerId: this.#producer.id });
  }

  async unmute(): Promise<void> {
    if (!this.isMuted) return;
    this.#mutedBy = null;
    this.setMuted(false);
    this.#producer?.resume();
    if (this.#producer && this.#signal) await this.#signal.request('resumeProducer', { producerId: this.#producer.id });
  }

  /** @internal A room admin or the server API muted this track on the server (the owner may unmute it). */
  handleMutedByAdmin(by: LocalTrackMutedBy): void {
    this.#producer?.pause();
    this.#mutedBy = by;
    this.setMuted(true);
  }

  /**
   * Sends `track` instead of the current one without renegotiating (same producer; e.g. another
   * camera). The previous capture is stopped.
   */
  async replaceTrack(track: MediaStreamTrack): Promise<void> {
    if (track.kind !== this.kind) throw new TelemedError('BAD_REQUEST', `the ${this.kind} track cannot be replaced by a ${track.kind} track`);
    const previous = this.mediaStreamTrack;
    if (this.#producer && !this.#producer.closed) await this.#producer.replaceTrack({ track });
    previous.removeEventListener('ended', this.#onEnded);
    track.addEventListener('ended', this.#onEnded);
    this.setMediaStreamTrack(track);
    this.#ended = false;
    previous.stop();
  }

  /** The browser's RTCStatsReport for this track's sender. */
  async getStats(): Promise<RTCStatsReport | undefined> {
    return this.#producer?.getStats();
  }

  /** Stops the capture and closes the producer. */
  stop(): void {
    this.#ended = true;
    this.mediaStreamTrack.removeEventListener('ended', this.#onEnded);
    this.mediaStreamTrack.stop();
    this.#producer?.close();
    this.#producer = undefined;
  }
}

// eslint-disable-next-line @typescript-eslint/no-namespace
export namespace LocalTrack {
  /** Who muted a local track (see {@link LocalTrack.mutedBy}). */
  export type MutedBy = 'self' | 'roomAdmin' | 'server';
}
