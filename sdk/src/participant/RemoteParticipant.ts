import type { ConnectionQuality } from '../quality/ConnectionQuality.js';
import type { ParticipantInfo, PublishedTrackInfo, ServerLeftReason } from '../protocol/messages.js';
import { Participant, type ParticipantEvents } from './Participant.js';
import type { RemoteTrack } from '../track/RemoteTrack.js';
import { RemoteTrackPublication, type SubscriptionRequest } from '../track/RemoteTrackPublication.js';

/**
 * Why a remote participant left: the server's reason (`left` on its own, `disconnected` when its
 * connection was lost for good, `removed` by a room admin, `replaced` by a newer session of the
 * same identity), or `roomRejoined` when this room lost its own session and rejoined (everyone
 * still there is announced again with `participantJoined`).
 */
export type ParticipantLeftReason = ServerLeftReason | 'roomRejoined';

export type RemoteParticipantEvents = ParticipantEvents & {
  /** A publication appeared after the participant was announced (those it had then are in `trackPublications`). */
  trackPublished: [RemoteTrackPublication];
  /** A publication is gone (its track, if subscribed, got `trackUnsubscribed` first). */
  trackUnpublished: [RemoteTrackPublication];
  trackSubscribed: [RemoteTrack];
  trackUnsubscribed: [RemoteTrack];
  trackMuted: [RemoteTrack];
  trackUnmuted: [RemoteTrack];
  /** The participant is no longer in the room. */
  left: [ParticipantLeftReason];
};

/** Another participant in the room. */
export class RemoteParticipant extends Participant<RemoteParticipantEvents, RemoteTrack> {
  readonly #publications = new Map<string, RemoteTrackPublication>();
  readonly #request: SubscriptionRequest | undefined;
  #reportedQuality: ConnectionQuality | undefined;

  /** @internal */
  constructor(info: ParticipantInfo, request?: SubscriptionRequest) {
    super(info.id, info.identity, info.name);
    this.#request = request;
    this.#reportedQuality = info.connectionQuality;
    for (const track of info.tracks) this.#publication(track);
  }

  /** Every track this participant publishes, received or not, with its mute state. */
  get trackPublications(): readonly RemoteTrackPublication[] {
    return [...this.#publications.values()];
  }

  /** The grade this participant's own SDK gives its link (relayed by the SFU), when it reported one. */
  get reportedQuality(): ConnectionQuality | undefined {
    return this.#reportedQuality;
  }

  /** @internal */
  handleReportedQuality(quality: ConnectionQuality): void {
    this.#reportedQuality = quality;
  }

  getTrackPublication(source: RemoteTrack['source']): RemoteTrackPublication | undefined {
    return this.trackPublications.find((p) => p.source === source);
  }

  /** The publication of a producer, made when it is new. */
  #publication(info: PublishedTrackInfo): RemoteTrackPublication {
    let publication = this.#publications.get(info.producerId);
    if (!publication) {
      publication = new RemoteTrackPublication(info, this.#request);
      this.#publications.set(info.producerId, publication);
    }
    return publication;
  }

  /** @internal The server announced a new track of this participant; undefined when it was known. */
  handleTrackPublished(info: PublishedTrackInfo): RemoteTrackPublication | undefined {
    if (this.#publications.has(info.producerId)) return undefined;
    const publication = this.#publication(info);
    this.emit('trackPublished', publication);
    return publication;
  }

  /** @internal The server says the track is gone: its received track (if any) closes, then the publication. */
  handleTrackUnpublished(producerId: string): void {
    const publication = this.#publications.get(producerId);
    if (!publication) return;
    if (publication.track) this.removeTrack(publication.track);
    this.#publications.delete(producerId);
    this.emit('trackUnpublished', publication);
  }

  /** @internal */
  addTrack(track: RemoteTrack): void {
    this.trackMap.set(track.source, track);
    const publication = this.#publication({ producerId: track.sid, kind: track.kind, source: track.source, paused: track.isMuted });
    publication.setMuted(track.isMuted);
    publication.setTrack(track);
    track.on('muted', () => this.emit('trackMuted', track));
    track.on('unmuted', () => this.emit('trackUnmuted', track));
    this.emit('trackSubscribed', track);
  }

  /** @internal The track's consumer closed (unsubscribed, unpublished, or the session is gone); the publication stays until unpublished. */
  removeTrack(track: RemoteTrack): void {
    if (this.trackMap.get(track.source) !== track) return;
    this.trackMap.delete(track.source);
    const publication = this.#publications.get(track.sid);
    if (publication?.track === track) publication.setTrack(undefined);
    track.close();
    this.emit('trackUnsubscribed', track);
  }

  /** @internal The server paused or resumed one of this participant's producers. */
  handleTrackMuted(producerId: string, muted: boolean): void {
    const publication = this.#publications.get(producerId);
    publication?.setMuted(muted);
    publication?.track?.handleMuted(muted);
  }

  /** @internal */
  trackBySid(sid: string): RemoteTrack | undefined {
    return this.tracks.find((t) => t.sid === sid);
  }

  /** @internal */
  trackByConsumerId(consumerId: string): RemoteTrack | undefined {
    return this.tracks.find((t) => t.consumerId === consumerId);
  }

  /** @internal */
  close(reason?: ParticipantLeftReason): void {
    for (const track of this.tracks) this.removeTrack(track);
    if (reason) this.emit('left', reason);
  }
}
