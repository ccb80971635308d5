import type { PublishedTrackInfo } from '../protocol/messages.js';
import type { RemoteTrack } from './RemoteTrack.js';
import type { Track } from './Track.js';

/**
 * A track a remote participant publishes, known from the server whether or not this room receives
 * it (a token without `canSubscribe` sees publications without tracks). `isMuted` follows the
 * server's `trackMuted`/`trackUnmuted`; `track` is set while it is subscribed.
 */
export class RemoteTrackPublication {
  /** The publisher's producer id (the same as its track's `sid`). */
  readonly sid: string;
  readonly kind: Track.Kind;
  readonly source: Track.Source;
  #muted: boolean;
  #track: RemoteTrack | undefined;

  /** @internal */
  constructor(info: PublishedTrackInfo) {
    this.sid = info.producerId;
    this.kind = info.kind;
    this.source = info.source;
    this.#muted = info.paused;
  }

  get isMuted(): boolean {
    return this.#muted;
  }

  /** The received track, while subscribed. */
  get track(): RemoteTrack | undefined {
    return this.#track;
  }

  get isSubscribed(): boolean {
    return this.#track !== undefined;
  }

  /** @internal Returns false when the state did not change. */
  setMuted(muted: boolean): boolean {
    if (this.#muted === muted) return false;
    this.#muted = muted;
    return true;
  }

  /** @internal */
  setTrack(track: RemoteTrack | undefined): void {
    this.#track = track;
  }
}
