import { TelemedError } from '../errors.js';
import type { PublishedTrackInfo } from '../protocol/messages.js';
import type { RemoteTrack } from './RemoteTrack.js';
import type { Track } from './Track.js';

/** @internal How a publication asks its room to receive its track or to stop. */
export type SubscriptionRequest = (publication: RemoteTrackPublication, subscribed: boolean) => Promise<void>;

/**
 * A track a remote participant publishes, known from the server whether or not this room receives
 * it (a token without `canSubscribe` sees publications without tracks, a room with
 * `autoSubscribe: false` receives only those it subscribes to). `isMuted` follows the server's
 * `trackMuted`/`trackUnmuted`; `track` is set while it is subscribed.
 */
export class RemoteTrackPublication {
  /** The publisher's producer id (the same as its track's `sid`). */
  readonly sid: string;
  readonly kind: Track.Kind;
  readonly source: Track.Source;
  readonly #request: SubscriptionRequest | undefined;
  #muted: boolean;
  #track: RemoteTrack | undefined;
  /** The last setSubscribed() call: the next one waits for it, so calls take effect in order. */
  #pending: Promise<void> = Promise.resolve();

  /** @internal */
  constructor(info: PublishedTrackInfo, request?: SubscriptionRequest) {
    this.sid = info.producerId;
    this.kind = info.kind;
    this.source = info.source;
    this.#muted = info.paused;
    this.#request = request;
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

  /**
   * Starts or stops receiving this track. Subscribing resolves once `track` is set (`trackSubscribed`
   * fired on the participant and the room); unsubscribing once it is unset (`trackUnsubscribed`).
   * Nothing happens when the state is already the one asked for. Rejects with a `SignalingError`
   * when the server refuses (`FORBIDDEN` without `canSubscribe`, `NOT_FOUND` once unpublished), or
   * `INVALID_STATE` outside a connected room.
   */
  setSubscribed(subscribed: boolean): Promise<void> {
    const request = this.#request;
    if (!request) return Promise.reject(new TelemedError('INVALID_STATE', 'this publication belongs to no connected room'));
    const next = this.#pending.then(() => (this.isSubscribed === subscribed ? undefined : request(this, subscribed)));
    this.#pending = next.catch(() => undefined);
    return next;
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
